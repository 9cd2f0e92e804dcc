import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { keyInfo } from '../../src/config/keys.js';
import { loadConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';

const doc = readFileSync('docs/configuration.md', 'utf8');

test('docs/configuration.md documents every key with its environment variable', () => {
  const sections = keyInfo(configSchema, [])?.keys ?? [];
  assert.ok(sections.includes('flow') && sections.includes('exporters'));
  for (const section of sections) {
    const info = keyInfo(configSchema, [section]);
    if (info?.kind !== 'object') {
      assert.ok(doc.includes(`FLOWGATE_${section.toUpperCase()}`), section);
      continue;
    }
    for (const key of info.keys) {
      assert.ok(doc.includes(`| \`${key}\` |`), `${section}.${key} has no row`);
      assert.ok(
        doc.includes(`FLOWGATE_${section.toUpperCase()}_${key.toUpperCase()}`),
        `${section}.${key} env`,
      );
    }
  }
  for (const key of keyInfo(configSchema, ['exporters', 0])?.keys ?? []) {
    assert.ok(doc.includes(`| \`${key}\` |`), `exporters[].${key}`);
  }
});

test('the example file in docs/configuration.md is valid', () => {
  const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(yaml);
  const file = join(mkdtempSync(join(tmpdir(), 'flowgate-docs-')), 'example.yaml');
  writeFileSync(file, yaml);
  const { config } = loadConfig({ file, env: {} });
  assert.equal(config.flow.udpbuffer, 16_777_216);
  assert.equal(config.exporters[0].samplerateoverride, 1000);
  assert.deepEqual(config.tags[1], { labels: ['syn-only'], tcpflags: ['syn,!ack'] });
  assert.equal(config.filters.rules[0]?.action, 'drop');
  assert.deepEqual(config.countonce[0], { exporter: null, class: 'transit', direction: 'ingress' });
  assert.equal(config.interfaces[0]?.speed, 10_000_000_000);
  assert.deepEqual(config.decode.extrafields[1], {
    name: 'pan_user',
    enterprise: 0,
    id: 56702,
    type: 'string',
  });
});
