import type { TemplateField } from '../../src/decode/template/contract.js';
import { VARIABLE_LENGTH } from '../../src/decode/template/contract.js';

/** One field of a test template with the bytes its record carries. */
export interface FieldBytes {
  id: number;
  enterprise?: number;
  /** Template length; VARIABLE_LENGTH writes the RFC 7011 section 7 length prefix. */
  length?: number;
  bytes: Buffer;
}

/** A template and one record of it, built field by field as bytes. */
export function templateRecord(fields: FieldBytes[]): { fields: TemplateField[]; record: Buffer } {
  const parts: Buffer[] = [];
  const tpl: TemplateField[] = [];
  for (const f of fields) {
    const length = f.length ?? f.bytes.length;
    tpl.push({ id: f.id, enterprise: f.enterprise ?? 0, length });
    if (length === VARIABLE_LENGTH) {
      const n = f.bytes.length;
      parts.push(n < 255 ? Buffer.from([n]) : Buffer.from([255, n >> 8, n & 0xff]));
    }
    parts.push(f.bytes);
  }
  return { fields: tpl, record: Buffer.concat(parts) };
}

/** Big-endian unsigned of `len` bytes (BigInt so 8-byte values are exact). */
export function u(value: number | bigint, len: number): Buffer {
  const b = Buffer.alloc(len);
  let v = BigInt(value);
  for (let i = len - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

export function ip4(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

/** Full (uncompressed) IPv6 text, 8 groups. */
export function ip6(text: string): Buffer {
  const b = Buffer.alloc(16);
  const groups = text.split(':');
  for (let i = 0; i < 8; i++) b.writeUInt16BE(Number.parseInt(groups[i], 16), i * 2);
  return b;
}

/** NTP timestamp (RFC 7011 section 6.1.9) of epoch ms. */
export function ntp(epochMs: number): Buffer {
  const sec = Math.floor(epochMs / 1000) + 2_208_988_800;
  const frac = Math.round(((epochMs % 1000) / 1000) * 2 ** 32);
  return Buffer.concat([u(sec, 4), u(frac, 4)]);
}
