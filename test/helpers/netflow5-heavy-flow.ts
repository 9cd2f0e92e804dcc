/**
 * One NetFlow v5 record heavy enough to trip detection in tests that run the real collector:
 * TCP ACK 198.51.100.7 -> 10.0.0.5:443, 2,000 packets and 200,000 bytes over the last second,
 * through interfaces 3 and 4 (names SNMP can give). `seq` numbers the records (and varies the
 * source port), so repeated sends are distinct flows.
 */
export function heavyTcpV5(seq: number): Buffer {
  const b = Buffer.alloc(24 + 48);
  const now = Date.now();
  b.writeUInt16BE(5, 0);
  b.writeUInt16BE(1, 2);
  b.writeUInt32BE(1_000_000, 4);
  b.writeUInt32BE(Math.floor(now / 1000), 8);
  b.writeUInt32BE((now % 1000) * 1_000_000, 12);
  b.writeUInt32BE(seq, 16);
  const o = 24;
  b.writeUInt32BE(0xc6336407, o); // 198.51.100.7
  b.writeUInt32BE(0x0a000005, o + 4); // 10.0.0.5
  b.writeUInt16BE(3, o + 12); // input interface
  b.writeUInt16BE(4, o + 14); // output interface
  b.writeUInt32BE(2_000, o + 16);
  b.writeUInt32BE(200_000, o + 20);
  b.writeUInt32BE(1_000_000 - 1_000, o + 24);
  b.writeUInt32BE(1_000_000, o + 28);
  b.writeUInt16BE(40_000 + (seq % 20_000), o + 32);
  b.writeUInt16BE(443, o + 34);
  b[o + 37] = 0x10; // ACK
  b[o + 38] = 6;
  return b;
}
