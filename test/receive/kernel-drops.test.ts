import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import {
  KernelDropSampler,
  kernelDropsFor,
  parseUdpSocketTable,
  readUdpSocketTable,
} from '../../src/receive/kernel-drops.js';

// Lines as a little-endian Linux host prints them (header and trailing blanks included).
const UDP4 = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            
 2577: 0100007F:0807 00000000:0000 07 00000000:00000A00 00:00000000 00000000   998        0 1207854 2 0000000054833ed0 17      
13536: 00000000:0807 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1207857 2 0000000005d9627f 0       
 2578: 0102A8C0:1B58 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1207858 2 0000000005d9627f 4294967295
 garbage line
 2579: 0100007F:ZZZZ 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0000000005d9627f 0
 2580: 0100007F:0807 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2
`;
const UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 3774: 00000000000000000000000000000000:0807 00000000000000000000000000000000:0000 07 00000000:00000200 00:00000000 00000000     0        0 1207855 2 00000000a77860a9 5
11494: 00000000000000000000000001000000:1283 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1207856 2 000000003badb2f9 0
11495: B80D0120000000000000000001000000:1283 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1207859 2 000000003badb2f9 2
11496: 0000000000000000FFFF00000100007F:1283 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1207860 2 000000003badb2f9 3
`;

test('parser: IPv4 and IPv6 rows, wildcard binds, garbage and truncated lines skipped', () => {
  const v4 = parseUdpSocketTable(UDP4, true);
  assert.deepEqual(v4, [
    { family: 4, localAddress: '127.0.0.1', localPort: 2055, rxQueueBytes: 2560, drops: 17, inode: 1207854 },
    { family: 4, localAddress: '0.0.0.0', localPort: 2055, rxQueueBytes: 0, drops: 0, inode: 1207857 },
    {
      family: 4,
      localAddress: '192.168.2.1',
      localPort: 7000,
      rxQueueBytes: 0,
      drops: 4294967295,
      inode: 1207858,
    },
  ]);
  const v6 = parseUdpSocketTable(UDP6, true);
  assert.deepEqual(
    v6.map((r) => [r.family, r.localAddress, r.localPort, r.rxQueueBytes, r.drops]),
    [
      [6, '::', 2055, 512, 5],
      [6, '::1', 4739, 0, 0],
      [6, '2001:db8::1', 4739, 0, 2],
      [6, '::ffff:127.0.0.1', 4739, 0, 3],
    ],
  );
  // A big-endian host prints the same words unswapped.
  assert.equal(
    parseUdpSocketTable(UDP4.replace('0100007F:0807', '7F000001:0807'), false)[0].localAddress,
    '127.0.0.1',
  );
});

test('readUdpSocketTable: missing files are not an error, both tables are read', () => {
  const files: Record<string, string> = { '/u4': UDP4, '/u6': UDP6 };
  const read = (p: string) => {
    const text = files[p];
    if (text === undefined) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' });
    return text;
  };
  assert.equal(readUdpSocketTable(['/u4', '/u6'], read).length, 7);
  assert.equal(readUdpSocketTable(['/u4', '/nope'], read).length, 3);
  assert.deepEqual(readUdpSocketTable(['/nope'], read), []);
});

test('kernelDropsFor: matches family, address and port; wildcards only match wildcards', () => {
  const rows = [...parseUdpSocketTable(UDP4, true), ...parseUdpSocketTable(UDP6, true)];
  assert.deepEqual(
    kernelDropsFor(
      [
        { address: '127.0.0.1:2055', port: 2055 },
        { address: '0.0.0.0:2055', port: 2055 },
        // Port 2055 is open in both tables: the dual-stack listener is the udp6 row only.
        { address: '[::]:2055', port: 2055 },
        { address: '[2001:0db8:0::1]:4739', port: 4739 },
        { address: '[::ffff:127.0.0.1]:4739', port: 4739 },
        { address: '127.0.0.1:4739', port: 4739 },
        { address: 'not-an-address:1', port: 1 },
      ],
      rows,
    ),
    [
      { address: '127.0.0.1:2055', drops: 17, rxQueueBytes: 2560 },
      { address: '0.0.0.0:2055', drops: 0, rxQueueBytes: 0 },
      { address: '[::]:2055', drops: 5, rxQueueBytes: 512 },
      { address: '[2001:0db8:0::1]:4739', drops: 2, rxQueueBytes: 0 },
      { address: '[::ffff:127.0.0.1]:4739', drops: 3, rxQueueBytes: 0 },
      { address: '127.0.0.1:4739', drops: null, rxQueueBytes: null },
      { address: 'not-an-address:1', drops: null, rxQueueBytes: null },
    ],
  );
});

test('KernelDropSampler reads the tables at most once per second', () => {
  let reads = 0;
  let now = 10_000;
  const sampler = new KernelDropSampler({
    paths: ['/u4'],
    read: () => {
      reads++;
      return UDP4;
    },
    now: () => now,
  });
  const l = [{ address: '127.0.0.1:2055', port: 2055 }];
  assert.equal(sampler.dropsFor(l)[0].drops, 17);
  now += 999;
  sampler.dropsFor(l);
  sampler.rows();
  assert.equal(reads, 1);
  now += 1;
  sampler.dropsFor(l);
  assert.equal(reads, 2);
});

const noProc = existsSync('/proc/net/udp') ? false : 'no /proc/net/udp: kernel drop counters are Linux only';

test('a real socket whose tiny buffer overflows shows drops', { skip: noProc }, async () => {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 2048 });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  try {
    const port = socket.address().port;
    // libuv reads a bound socket whether or not anyone listens for 'message', so the event loop
    // is held instead: spawnSync blocks it while the child floods the port, and nothing is read.
    const sender = `
      const s = require('node:dgram').createSocket('udp4');
      const payload = Buffer.alloc(1000, 0x61);
      let left = 2000;
      for (let i = 0; i < 2000; i++) s.send(payload, ${port}, '127.0.0.1', () => { if (--left === 0) s.close(); });
    `;
    const child = spawnSync(process.execPath, ['-e', sender], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.status, 0, child.stderr);
    const rows = readUdpSocketTable().filter((r) => r.localPort === port);
    assert.equal(rows.length, 1, `one row for 127.0.0.1:${port}`);
    assert.equal(rows[0].localAddress, '127.0.0.1');
    assert.ok(rows[0].drops > 0, `kernel drops for port ${port}: ${rows[0].drops}`);
    assert.ok(rows[0].drops < 2000, 'some datagrams fit in the buffer');
    const [mine] = new KernelDropSampler().dropsFor([{ address: `127.0.0.1:${port}`, port }]);
    assert.ok(mine.drops !== null && mine.drops >= rows[0].drops, `reported ${mine.drops}`);
    assert.ok(mine.rxQueueBytes !== null && mine.rxQueueBytes > 0, 'datagrams still queued');
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
});
