import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, prettyLine } from '../../src/log/logger.js';

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (s: string) => void lines.push(s) } };
}

test('json logs: one JSON object per line with a level label, time and message; below-level lines dropped', () => {
  const { lines, destination } = capture();
  const log = createLogger({ level: 'info', format: 'json' }, { destination });
  log.debug('not shown');
  log.info({ address: '[::]:2055', udpbuffer: 4194304 }, 'listening');
  log.warn('slow output');
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0]);
  assert.equal(first.level, 'info');
  assert.equal(first.msg, 'listening');
  assert.equal(first.address, '[::]:2055');
  assert.equal(first.udpbuffer, 4194304);
  assert.match(first.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(JSON.parse(lines[1]).level, 'warn');
});

test('pretty logs: a human line with time, level, message and fields', () => {
  const { lines, destination } = capture();
  const log = createLogger({ level: 'debug', format: 'pretty' }, { destination });
  log.debug({ exporter: '192.0.2.1', note: 'two words' }, 'template learned');
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    /^\d{4}-\d\d-\d\dT\S+Z DEBUG template learned exporter=192\.0\.2\.1 note="two words"\n$/,
  );
  const withError = prettyLine(
    JSON.stringify({
      level: 'error',
      time: 't',
      msg: 'bind failed',
      err: { message: 'EADDRINUSE', stack: 'Error: EADDRINUSE\n    at x' },
    }),
  );
  assert.equal(withError, 't ERROR bind failed err=EADDRINUSE\n    Error: EADDRINUSE\n        at x\n');
});

test('secret keys are redacted wherever a config or section is logged', () => {
  const { lines, destination } = capture();
  const log = createLogger({ level: 'info', format: 'json' }, { destination, secretKeys: ['api.token'] });
  log.info({ config: { api: { token: 'hunter2-secret', port: 8080 } } }, 'configuration');
  log.info({ api: { token: 'hunter2-secret' } }, 'section');
  log.info({ token: 'hunter2-secret' }, 'bare');
  assert.equal(lines.length, 3);
  for (const l of lines) assert.ok(!l.includes('hunter2-secret'), l);
  assert.equal(JSON.parse(lines[0]).config.api.token, '********');
  assert.equal(JSON.parse(lines[0]).config.api.port, 8080);
  assert.equal(JSON.parse(lines[1]).api.token, '********');
});
