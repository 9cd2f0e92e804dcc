import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decoderSettingsFromConfig } from '../../src/config/decoder-settings.js';
import type { ExporterConfig } from '../../src/config/types.js';
import { DEFAULT_EXPORTER_SETTINGS } from '../../src/decode/settings.js';
import { testConfig } from '../helpers/config.js';

function exporter(match: string, over: Partial<ExporterConfig> = {}): ExporterConfig {
  return {
    match,
    name: null,
    site: null,
    samplerate: null,
    samplerateoverride: null,
    keybyport: false,
    tags: [],
    ...over,
  };
}

test('decode limits and extra fields come from the config', () => {
  const s = decoderSettingsFromConfig(
    testConfig({
      decode: {
        maxexporters: 3,
        maxtemplatesperexporter: 9,
        templatettl: 60,
        extrafields: [{ name: 'appid', id: 95, enterprise: 0, type: null }],
      },
    }),
  );
  assert.equal(s.limits.maxExporters, 3);
  assert.equal(s.limits.maxTemplatesPerExporter, 9);
  assert.equal(s.limits.templateTtlMs, 60_000);
  assert.equal(s.limits.maxFieldsPerTemplate, 256);
  assert.deepEqual(s.extraFields, [{ name: 'appid', id: 95, enterprise: 0, type: null }]);
});

test('per-exporter settings: first matching address or CIDR wins, IPv6 and v4-mapped included', () => {
  const s = decoderSettingsFromConfig(
    testConfig({
      exporters: [
        exporter('192.0.2.7', { samplerateoverride: 10 }),
        exporter('192.0.2.0/24', { samplerate: 100, keybyport: true }),
        exporter('2001:db8::/32', { samplerate: 2048 }),
        exporter('0.0.0.0/0', { samplerate: 1 }),
      ],
    }),
  );
  assert.deepEqual(s.exporterSettings('192.0.2.7'), {
    defaultSampleRate: null,
    sampleRateOverride: 10,
    keyByPort: false,
  });
  assert.deepEqual(s.exporterSettings('192.0.2.8'), {
    defaultSampleRate: 100,
    sampleRateOverride: null,
    keyByPort: true,
  });
  assert.deepEqual(s.exporterSettings('::ffff:192.0.2.9').defaultSampleRate, 100);
  assert.equal(s.exporterSettings('2001:db8:1::5').defaultSampleRate, 2048);
  assert.equal(s.exporterSettings('198.51.100.1').defaultSampleRate, 1);
  assert.equal(s.exporterSettings('2001:dead::1'), DEFAULT_EXPORTER_SETTINGS);
  assert.equal(s.exporterSettings('not an address'), DEFAULT_EXPORTER_SETTINGS);
  const none = decoderSettingsFromConfig(testConfig());
  assert.equal(none.exporterSettings('192.0.2.7'), DEFAULT_EXPORTER_SETTINGS);
});
