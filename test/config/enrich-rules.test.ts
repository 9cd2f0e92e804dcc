/** Bad tag, filter and class rules are config errors with the file, the line and the key. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';

function load(yaml: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'flowgate-rules-')), 'flowgate.yaml');
  writeFileSync(file, yaml);
  return { file, run: () => loadConfig({ file, env: {} }) };
}

test('a bad port range in a tag rule and a CIDR with host bits in a filter name their lines', () => {
  const { file, run } = load(
    'tags:\n  - labels: [x]\n    dstports: ["53-"]\nfilters:\n  rules:\n    - { srcnets: [10.1.0.0/8] }\n',
  );
  assert.throws(run, (err: Error) => {
    assert.match(err.message, new RegExp(`${file}:3: tags\\[0\\]\\.dstports\\[0\\]: expected a port`));
    assert.match(
      err.message,
      new RegExp(`${file}:6: filters\\.rules\\[0\\]\\.srcnets\\[0\\].*did you mean 10\\.0\\.0\\.0/8`),
    );
    return true;
  });
});

test('valid rules load, and defaults give the usual internal networks with bogons on', () => {
  const { config } = load('tags:\n  - { labels: [web], dstports: [80, 443] }\n').run();
  assert.deepEqual(config.tags, [{ labels: ['web'], dstports: [80, 443] }]);
  assert.equal(config.addressclasses.bogons, true);
  assert.ok(config.addressclasses.internalnetworks.includes('10.0.0.0/8'));
  assert.deepEqual(config.filters, { defaultaction: 'accept', rules: [] });
});
