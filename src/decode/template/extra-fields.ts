import { ipv4At, ipv6At } from '../../record/address.js';
import type { ExtraFieldMapping, ExtraFieldType } from '../settings.js';
import { IANA_ELEMENTS } from './iana-elements.generated.js';

/**
 * User-mapped extra fields (config `decode.extrafields`): the bytes of one element turned into
 * the JSON value stored under the configured name. Only runs for mapped fields, so the string
 * and hex values it allocates are the price of what the user asked for.
 */

/** How a value is decoded: the configured types, plus the IANA time types converted to epoch ms. */
export const ExtraKind = {
  UNSIGNED: 0,
  SIGNED: 1,
  FLOAT: 2,
  BOOLEAN: 3,
  STRING: 4,
  IPV4: 5,
  IPV6: 6,
  MAC: 7,
  HEX: 8,
  DATETIME_SEC: 9,
  DATETIME_MS: 10,
  DATETIME_NTP: 11,
} as const;

export type ExtraKind = (typeof ExtraKind)[keyof typeof ExtraKind];

const BY_TYPE: Record<ExtraFieldType, ExtraKind> = {
  unsigned: ExtraKind.UNSIGNED,
  signed: ExtraKind.SIGNED,
  float: ExtraKind.FLOAT,
  boolean: ExtraKind.BOOLEAN,
  string: ExtraKind.STRING,
  ipv4: ExtraKind.IPV4,
  ipv6: ExtraKind.IPV6,
  mac: ExtraKind.MAC,
  hex: ExtraKind.HEX,
};

/** RFC 7012 section 3.1 abstract data types -> kind; anything else (octetArray, lists) is hex. */
function kindOfIanaType(dataType: string): ExtraKind {
  if (dataType.startsWith('unsigned')) return ExtraKind.UNSIGNED;
  if (dataType.startsWith('signed')) return ExtraKind.SIGNED;
  if (dataType.startsWith('float')) return ExtraKind.FLOAT;
  switch (dataType) {
    case 'boolean':
      return ExtraKind.BOOLEAN;
    case 'string':
      return ExtraKind.STRING;
    case 'ipv4Address':
      return ExtraKind.IPV4;
    case 'ipv6Address':
      return ExtraKind.IPV6;
    case 'macAddress':
      return ExtraKind.MAC;
    case 'dateTimeSeconds':
      return ExtraKind.DATETIME_SEC;
    case 'dateTimeMilliseconds':
      return ExtraKind.DATETIME_MS;
    case 'dateTimeMicroseconds':
    case 'dateTimeNanoseconds':
      return ExtraKind.DATETIME_NTP;
    default:
      return ExtraKind.HEX;
  }
}

let ianaTypes: Map<number, string> | null = null;

function ianaDataType(id: number): string | undefined {
  if (ianaTypes === null) {
    ianaTypes = new Map();
    for (const e of IANA_ELEMENTS) ianaTypes.set(e.id, e.dataType);
  }
  return ianaTypes.get(id);
}

/**
 * The configured type, else the IANA data type (enterprise 0 below 32768: NetFlow v9 types above
 * that are Cisco's own, not IANA elements), else hex.
 */
export function extraKindOf(mapping: ExtraFieldMapping): ExtraKind {
  if (mapping.type !== null) return BY_TYPE[mapping.type];
  if (mapping.enterprise === 0 && mapping.id < 32768) {
    const t = ianaDataType(mapping.id);
    if (t !== undefined) return kindOfIanaType(t);
  }
  return ExtraKind.HEX;
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hexAt(buf: Buffer, p: number, len: number, sep: string): string | null {
  if (len === 0) return null;
  let s = HEX[buf[p]];
  for (let i = 1; i < len; i++) s += sep + HEX[buf[p + i]];
  return s;
}

/** Unsigned big-endian integer of 1..8 bytes (u64 above 2^53 loses precision: a JS number). */
export function uintAt(buf: Buffer, p: number, len: number): number {
  switch (len) {
    case 1:
      return buf[p];
    case 2:
      return (buf[p] << 8) | buf[p + 1];
    case 4:
      return buf[p] * 0x1000000 + ((buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]);
    case 8:
      return (
        (buf[p] * 0x1000000 + ((buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3])) * 0x100000000 +
        buf[p + 4] * 0x1000000 +
        ((buf[p + 5] << 16) | (buf[p + 6] << 8) | buf[p + 7])
      );
    default: {
      let v = 0;
      for (let i = 0; i < len; i++) v = v * 256 + buf[p + i];
      return v;
    }
  }
}

/** Seconds between the NTP era (1900-01-01) and the Unix epoch. */
const NTP_UNIX_OFFSET_SEC = 2_208_988_800;

/** RFC 7011 sections 6.1.9/6.1.10: NTP seconds + 2^-32 fraction, as Unix epoch ms. */
export function ntpToEpochMs(buf: Buffer, p: number): number {
  const sec = buf[p] * 0x1000000 + ((buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]);
  const frac = buf[p + 4] * 0x1000000 + ((buf[p + 5] << 16) | (buf[p + 6] << 8) | buf[p + 7]);
  return (sec - NTP_UNIX_OFFSET_SEC) * 1000 + Math.floor((frac * 1000) / 0x100000000);
}

/** UTF-8 without the NUL padding NetFlow v9 puts after fixed-length strings; empty is unknown. */
export function stringAt(buf: Buffer, p: number, len: number): string | null {
  let n = len;
  while (n > 0 && buf[p + n - 1] === 0) n--;
  return n === 0 ? null : buf.toString('utf8', p, p + n);
}

export function extraValue(
  buf: Buffer,
  p: number,
  len: number,
  kind: ExtraKind,
): string | number | boolean | null {
  switch (kind) {
    case ExtraKind.UNSIGNED:
    case ExtraKind.DATETIME_MS:
      return len >= 1 && len <= 8 ? uintAt(buf, p, len) : hexAt(buf, p, len, '');
    case ExtraKind.DATETIME_SEC:
      return len >= 1 && len <= 8 ? uintAt(buf, p, len) * 1000 : hexAt(buf, p, len, '');
    case ExtraKind.DATETIME_NTP:
      return len === 8 ? ntpToEpochMs(buf, p) : hexAt(buf, p, len, '');
    case ExtraKind.SIGNED: {
      if (len < 1 || len > 8) return hexAt(buf, p, len, '');
      const u = uintAt(buf, p, len);
      // two's complement over len bytes
      return buf[p] & 0x80 ? u - 2 ** (8 * len) : u;
    }
    case ExtraKind.FLOAT:
      if (len === 4) return buf.readFloatBE(p);
      if (len === 8) return buf.readDoubleBE(p);
      return null;
    case ExtraKind.BOOLEAN: {
      // RFC 7011 section 6.1.5: 1 true, 2 false; 0 is what v9 vendors send for false.
      if (len !== 1) return null;
      const b = buf[p];
      return b === 1 ? true : b === 2 || b === 0 ? false : null;
    }
    case ExtraKind.STRING:
      return stringAt(buf, p, len);
    case ExtraKind.IPV4:
      return len === 4 ? ipv4At(buf, p) : hexAt(buf, p, len, '');
    case ExtraKind.IPV6:
      return len === 16 ? ipv6At(buf, p) : hexAt(buf, p, len, '');
    case ExtraKind.MAC:
      return len === 6 ? hexAt(buf, p, 6, ':') : hexAt(buf, p, len, '');
    default:
      return hexAt(buf, p, len, '');
  }
}
