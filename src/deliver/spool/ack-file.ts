import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { crc32 } from './crc32.js';

/** Where the oldest unacknowledged batch starts: a segment number and a byte offset in it. */
export interface SpoolPosition {
  segment: number;
  offset: number;
}

/**
 * The read position, persisted in the `ack` file. Two 32-byte slots in separate 512-byte sectors
 * are written alternately, each with a sequence number and its own CRC; the reader takes the valid
 * slot with the higher sequence. One small in-place write and one fdatasync per acknowledgement,
 * cheaper than write-temp + rename + directory fsync, and as safe: a torn slot write fails its CRC
 * and the other slot still holds the previous position, which can only make a restart replay one
 * batch again (at least once), never skip one. Markers inside the segments would instead mean
 * rewriting data files in place and scanning them to find the position.
 *
 * Slot: "FGAK", CRC-32 of bytes 8..32, f64 sequence, u32 segment, u32 reserved, f64 offset.
 */
const SLOT_BYTES = 32;
const SLOT_OFFSETS = [0, 512] as const;
const MAGIC = Buffer.from('FGAK', 'latin1');

export class AckFile {
  private constructor(
    private readonly handle: FileHandle,
    private sequence: number,
    private readonly fsync: boolean,
  ) {}

  /** Opens (or creates) the file; `created` tells the caller to fsync the directory. */
  static async open(
    path: string,
    fsync: boolean,
  ): Promise<{ file: AckFile; position: SpoolPosition | null; created: boolean }> {
    let handle: FileHandle;
    let created = false;
    try {
      handle = await open(path, constants.O_RDWR);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      handle = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o644);
      created = true;
    }
    const buf = Buffer.alloc(SLOT_OFFSETS[1] + SLOT_BYTES);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    let best: { sequence: number; position: SpoolPosition } | null = null;
    for (const at of SLOT_OFFSETS) {
      if (at + SLOT_BYTES > bytesRead) continue;
      const slot = parseSlot(buf.subarray(at, at + SLOT_BYTES));
      if (slot !== null && (best === null || slot.sequence > best.sequence)) best = slot;
    }
    return {
      file: new AckFile(handle, best?.sequence ?? 0, fsync),
      position: best?.position ?? null,
      created,
    };
  }

  async write(position: SpoolPosition): Promise<void> {
    this.sequence++;
    const slot = Buffer.alloc(SLOT_BYTES);
    MAGIC.copy(slot, 0);
    slot.writeDoubleLE(this.sequence, 8);
    slot.writeUInt32LE(position.segment, 16);
    slot.writeDoubleLE(position.offset, 24);
    slot.writeUInt32LE(crc32(slot.subarray(8)), 4);
    await this.handle.write(slot, 0, SLOT_BYTES, SLOT_OFFSETS[this.sequence % 2]);
    if (this.fsync) await this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

function parseSlot(slot: Buffer): { sequence: number; position: SpoolPosition } | null {
  if (slot.compare(MAGIC, 0, 4, 0, 4) !== 0) return null;
  if (crc32(slot.subarray(8)) !== slot.readUInt32LE(4)) return null;
  const sequence = slot.readDoubleLE(8);
  const offset = slot.readDoubleLE(24);
  if (!Number.isSafeInteger(sequence) || !Number.isSafeInteger(offset) || offset < 0) return null;
  return { sequence, position: { segment: slot.readUInt32LE(16), offset } };
}
