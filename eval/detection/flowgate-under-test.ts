/**
 * Flowgate as both evaluation runners set it up for a scenario: the collector's configuration
 * (the scenario's internal networks, records scaled back by the scenario's scale, learning
 * shortened to the background), a sink that keeps alert starts, and an output that drops records.
 */
import { join } from 'node:path';
import { configSchema } from '../../src/config/schema.js';
import type { FlowgateConfig } from '../../src/config/types.js';
import type { RecordOutput } from '../../src/deliver/output.js';
import type { Alert, AlertEvent, AlertKind, AlertSink } from '../../src/detect/alert.js';
import { CARPET_NETWORK, type GeneratedScenario, INTERNAL_NETWORKS, type ScenarioKind } from './scenarios.js';

/** Keeps every alert start. */
export class AlertRecorder implements AlertSink {
  readonly name = 'evaluation';
  readonly started: Alert[] = [];
  handle(e: AlertEvent): void {
    if (e.type === 'start') this.started.push(e.alert);
  }
  async close(): Promise<void> {}
}

/** Records are not the point of an evaluation: the alerts are. */
export const discardOutput: RecordOutput = {
  name: 'discard',
  async write(): Promise<void> {},
  async close(): Promise<void> {},
};

/**
 * The collector's configuration for `s`, data under `dir`. The exporter on 127.0.0.1 is given
 * the scenario's scale as its sampling rate (as a 1-in-scale sampling router would announce).
 */
export function flowgateConfigFor(s: GeneratedScenario, dir: string): FlowgateConfig {
  const leadSeconds = Math.floor((s.attackStartMs - s.captureStartMs) / 1000);
  const config = configSchema.parse({
    general: { datadir: dir, templatedb: join(dir, 'templates.json') },
    flow: { listen: ['127.0.0.1:2055'], udpbuffer: 8_388_608, queue: 1_000_000 },
    store: { enabled: false },
    api: { enabled: false },
    exporters: s.scale > 1 ? [{ match: '127.0.0.1', samplerateoverride: s.scale }] : [],
    addressclasses: { internalnetworks: [...INTERNAL_NETWORKS] },
    detection: {
      exportersilent: null,
      // Destinations of the background are the known ones; the background lasts minutes, not a
      // day: one baseline for all hours, warm after 3 windows.
      learnperiod: Math.max(0, leadSeconds - 30),
      baseline: { slots: 1, warmup: 3 },
      // A server network watched as a whole too, as an operator would for carpet bombing.
      hostgroups: [{ name: CARPET_NETWORK, networks: [CARPET_NETWORK], totals: { reflectionpps: 20_000 } }],
    },
    alerts: { persist: false },
  }) as FlowgateConfig;
  // Port 0 (any free port) is not a valid configured address; the parsed config may say so.
  config.flow.listen = ['127.0.0.1:0'];
  return config;
}

/** Alert kinds that count as detecting a scenario of each labelled kind. */
export const ACCEPTED_KINDS: Record<ScenarioKind, readonly AlertKind[]> = {
  // A UDP flood is "volumetric" unless udppps is set; either names it correctly.
  volumetric: ['volumetric', 'udp_flood'],
  udp_flood: ['udp_flood', 'volumetric'],
  syn_flood: ['syn_flood'],
  icmp_flood: ['icmp_flood'],
  fragment_flood: ['fragment_flood'],
  reflection: ['reflection'],
  port_scan: ['port_scan'],
  sweep: ['sweep'],
  exfiltration: ['exfiltration', 'new_destination'],
  benign: [],
};

/** The value after `name` on the command line, or null. */
export function cliOption(name: string): string | null {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? null) : null;
}
