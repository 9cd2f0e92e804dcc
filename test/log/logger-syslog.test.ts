/**
 * The `syslog:` section wired into the logger: lines at or above syslog.level reach a real UDP
 * syslog listener as RFC 5424 messages, with their own level independent of log.level, and
 * secrets masked.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { closeLogger, createLogger } from '../../src/log/logger.js';

test('the logger sends to syslog at syslog.level while stderr keeps log.level', async () => {
  const server = createSocket('udp4');
  server.bind(0, '127.0.0.1');
  await once(server, 'listening');
  const messages: string[] = [];
  server.on('message', (m) => messages.push(m.toString('utf8')));
  const local: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      local.push(String(chunk));
      done();
    },
  });
  const logger = createLogger(
    { level: 'warn', format: 'json' },
    {
      destination,
      syslog: {
        server: `127.0.0.1:${server.address().port}`,
        protocol: 'udp',
        level: 'info',
        facility: 'local3',
      },
    },
  );
  logger.debug('not sent anywhere');
  logger.info({ api: { token: 'secret-token-1234567890' } }, 'configuration loaded');
  logger.error({ listen: '[::]:2055' }, 'bind failed');
  const until = Date.now() + 3000;
  while (messages.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  await closeLogger(logger);
  server.close();
  assert.equal(messages.length, 2, messages.join('\n'));
  // local3 = 19: info → 19*8+6 = 158, error → 19*8+3 = 155.
  assert.match(messages[0] as string, /^<158>1 \S+ \S+ flowgate \d+ - - configuration loaded /);
  assert.match(messages[1] as string, /^<155>1 \S+ \S+ flowgate \d+ - - bind failed listen="\[::\]:2055"/);
  assert.ok(!(messages[0] as string).includes('secret-token'), 'the token is masked');
  assert.equal(local.length, 1, 'stderr keeps log.level (warn): only the error');
});
