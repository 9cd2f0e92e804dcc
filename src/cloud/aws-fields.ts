/**
 * The field names AWS documents for flow logs, in the documented order, and the default layouts
 * built from them. Source: docs.aws.amazon.com, "Flow log records" (available fields, by version)
 * and "Transit Gateway Flow Logs records" (default format).
 */

const V2 = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
] as const;
const V3 = ['vpc-id', 'subnet-id', 'instance-id', 'tcp-flags', 'type', 'pkt-srcaddr', 'pkt-dstaddr'] as const;
const V4 = ['region', 'az-id', 'sublocation-type', 'sublocation-id'] as const;
const V5 = ['pkt-src-aws-service', 'pkt-dst-aws-service', 'flow-direction', 'traffic-path'] as const;
const V7 = [
  'ecs-cluster-arn',
  'ecs-cluster-name',
  'ecs-container-instance-arn',
  'ecs-container-instance-id',
  'ecs-container-id',
  'ecs-second-container-id',
  'ecs-service-name',
  'ecs-task-definition-arn',
  'ecs-task-arn',
  'ecs-task-id',
] as const;
const V8 = ['reject-reason'] as const;

/** Transit Gateway default format (version 6), in order. */
export const TGW_DEFAULT_LAYOUT: readonly string[] = [
  'version',
  'resource-type',
  'account-id',
  'tgw-id',
  'tgw-attachment-id',
  'tgw-src-vpc-account-id',
  'tgw-dst-vpc-account-id',
  'tgw-src-vpc-id',
  'tgw-dst-vpc-id',
  'tgw-src-subnet-id',
  'tgw-dst-subnet-id',
  'tgw-src-eni',
  'tgw-dst-eni',
  'tgw-src-az-id',
  'tgw-dst-az-id',
  'tgw-pair-attachment-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'log-status',
  'type',
  'packets-lost-no-route',
  'packets-lost-blackhole',
  'packets-lost-mtu-exceeded',
  'packets-lost-ttl-expired',
  'tcp-flags',
  'region',
  'flow-direction',
  'pkt-src-aws-service',
  'pkt-dst-aws-service',
];

/** VPC layouts used when a file has no header: the v2 default, then all fields up to v3/4/5/7/8. */
export const AWS_DEFAULT_LAYOUTS: readonly (readonly string[])[] = [
  [...V2],
  [...V2, ...V3],
  [...V2, ...V3, ...V4],
  [...V2, ...V3, ...V4, ...V5],
  [...V2, ...V3, ...V4, ...V5, ...V7],
  [...V2, ...V3, ...V4, ...V5, ...V7, ...V8],
];

/** Every documented name, VPC and Transit Gateway (header detection). */
export const AWS_FIELD_NAMES: readonly string[] = [
  ...new Set([...V2, ...V3, ...V4, ...V5, ...V7, ...V8, ...TGW_DEFAULT_LAYOUT]),
];
