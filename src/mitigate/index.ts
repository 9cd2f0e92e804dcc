export type { Announcement, BlackholeRoute, FlowspecRule } from './announcement.js';
export {
  DEFAULT_MITIGATION_CONFIG,
  MITIGABLE_KINDS,
  type MitigableKind,
  type MitigationConfig,
  MitigationConfigError,
} from './config.js';
export type { CommandResult, CommandRunner } from './gobgp-cli.js';
export {
  type ActiveAnnouncement,
  type MitigationStatus,
  Mitigator,
  type MitigatorOptions,
} from './mitigator.js';
