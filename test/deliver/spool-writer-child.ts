/**
 * Child process for spool-crash.test.ts: appends numbered batches to the spool in `argv[2]` from
 * number `argv[3]` on, forever, printing "A <n>" once an append has resolved and, after every
 * third append, acknowledges the oldest batch and prints "K <n>" once that ack has resolved. The
 * parent kills it with SIGKILL at a random moment.
 */
import { Spool } from '../../src/deliver/spool/spool.js';
import { crashBody } from './spool-helpers.js';

const [dir, startArg] = process.argv.slice(2);
const spool = await Spool.open({ dir, maxBytes: 1 << 30, whenFull: 'refusenewest', segmentBytes: 16_384 });
for (let n = Number(startArg); ; n++) {
  const ok = await spool.append({ id: `n${n}`, records: n % 7, body: crashBody(n), createdAt: n });
  if (!ok) throw new Error(`append ${n} refused`);
  process.stdout.write(`A ${n}\n`);
  if (n % 3 === 2) {
    const oldest = await spool.peek();
    if (oldest === null) throw new Error('spool empty after an append');
    await spool.ack(oldest.id);
    process.stdout.write(`K ${oldest.id.slice(1)}\n`);
  }
}
