import { configSchema } from '../../src/config/schema.js';
import type { FlowgateConfig } from '../../src/config/types.js';

type Overrides = {
  [K in keyof FlowgateConfig]?: FlowgateConfig[K] extends unknown[]
    ? FlowgateConfig[K]
    : Partial<FlowgateConfig[K]>;
};

/** The defaults of an empty configuration file, with sections overridden key by key. */
export function testConfig(overrides: Overrides = {}): FlowgateConfig {
  const base = configSchema.parse({}) as FlowgateConfig;
  return {
    general: { ...base.general, ...overrides.general },
    flow: { ...base.flow, ...overrides.flow },
    decode: { ...base.decode, ...overrides.decode },
    exporters: overrides.exporters ?? base.exporters,
    interfaces: overrides.interfaces ?? base.interfaces,
    interfaceclasses: overrides.interfaceclasses ?? base.interfaceclasses,
    countonce: overrides.countonce ?? base.countonce,
    addressclasses: { ...base.addressclasses, ...overrides.addressclasses },
    tags: overrides.tags ?? base.tags,
    filters: { ...base.filters, ...overrides.filters },
    output: { ...base.output, ...overrides.output },
    store: { ...base.store, ...overrides.store },
    snmp: { ...base.snmp, ...overrides.snmp },
    geo: { ...base.geo, ...overrides.geo },
    detection: { ...base.detection, ...overrides.detection },
    notify: { ...base.notify, ...overrides.notify },
    mitigation: { ...base.mitigation, ...overrides.mitigation },
    // In memory unless a test asks: tests must not leave alert files in the working directory.
    alerts: { ...base.alerts, persist: false, ...overrides.alerts },
    api: { ...base.api, ...overrides.api },
    log: { ...base.log, ...overrides.log },
    syslog: { ...base.syslog, ...overrides.syslog },
    cloud: { ...base.cloud, ...overrides.cloud },
  };
}
