/**
 * Which S3 keys hold VPC flow logs, and when each was written, read from the key alone so that a
 * listing can be filtered and ordered without a request per object.
 *
 * AWS delivers flow logs under `[prefix/]AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/` (plus
 * `HH/` with hourly partitions), or with Hive-compatible prefixes
 * `AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/year=YYYY/month=MM/day=DD/[hour=HH/]`.
 * File names look like `<account>_vpcflowlogs_<region>_<flow-log-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz`
 * (AWS user guide, "Flow log files" for Amazon S3). The same `AWSLogs/` tree also holds other
 * services' logs (CloudTrail, ELB) and AWS's `aws-logs-write-test` object, which are not flow logs.
 */

/** What a key says about its object. */
export interface S3KeyInfo {
  /** Under `AWSLogs/<account>/vpcflowlogs/` (either layout). */
  readonly awsLogs: boolean;
  /**
   * The start and end (ms since the epoch) of the period the key's folders name (a day, or an
   * hour with hourly partitions); null when the key has no date folders.
   */
  readonly periodStart: number | null;
  readonly periodEnd: number | null;
  /** The most precise time in the key (the file name's stamp, else the period start), for ordering. */
  readonly time: number | null;
}

const PLAIN_LAYOUT =
  /(?:^|\/)AWSLogs\/[^/]+\/vpcflowlogs\/[^/]+\/(\d{4})\/(\d{2})\/(\d{2})\/(?:(\d{2})\/)?[^/]+$/;
const HIVE_LAYOUT =
  /(?:^|\/)AWSLogs\/aws-account-id=[^/]+\/aws-service=vpcflowlogs\/aws-region=[^/]+\/year=(\d{4})\/month=(\d{2})\/day=(\d{2})\/(?:hour=(\d{2})\/)?[^/]+$/;
const NAME_STAMP = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_[^/]*$/;
const AWS_LOGS_EXTENSIONS = /\.log(?:\.gz)?$/;
const OTHER_EXTENSIONS = /\.(?:log|log\.gz|gz|json|json\.gz)$/;

/** Reads the layout and dates of `key`. */
export function s3KeyInfo(key: string): S3KeyInfo {
  const m = PLAIN_LAYOUT.exec(key) ?? HIVE_LAYOUT.exec(key);
  if (m === null) return { awsLogs: false, periodStart: null, periodEnd: null, time: null };
  const hour = m[4] === undefined ? null : Number(m[4]);
  const periodStart = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), hour ?? 0);
  const periodEnd = periodStart + (hour === null ? 86_400_000 : 3_600_000);
  const s = NAME_STAMP.exec(key);
  const time =
    s === null
      ? periodStart
      : Date.UTC(Number(s[1]), Number(s[2]) - 1, Number(s[3]), Number(s[4]), Number(s[5]));
  return { awsLogs: true, periodStart, periodEnd, time: Number.isNaN(time) ? periodStart : time };
}

/**
 * Whether `key` is a flow-log object to read: an AWSLogs flow-log key ending in `.log` or `.log.gz`
 * (Parquet files are not read), any other key ending in `.log`, `.log.gz`, `.gz`, `.json` or
 * `.json.gz`, or any key `pattern` matches.
 */
export function isFlowLogKey(key: string, info: S3KeyInfo, pattern?: RegExp): boolean {
  if (pattern !== undefined) {
    // A /g or /y pattern keeps lastIndex between calls; every key is tested from its start.
    pattern.lastIndex = 0;
    if (pattern.test(key)) return true;
  }
  if (info.awsLogs) return AWS_LOGS_EXTENSIONS.test(key);
  // Other services' logs under AWSLogs/ (CloudTrail's .json.gz) would otherwise pass the extension test.
  if (/(?:^|\/)AWSLogs\//.test(key)) return false;
  return OTHER_EXTENSIONS.test(key);
}
