/**
 * Two network namespaces joined by a veth pair, for tests that need real traffic between two
 * hosts: A gets 10.213.<n>.1/30, B 10.213.<n>.2/30. Nothing is routed anywhere else. cleanup()
 * always deletes both namespaces (which deletes the veth pair) and is safe to call twice.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface NetnsPair {
  readonly a: string;
  readonly b: string;
  readonly addressA: string;
  readonly addressB: string;
  cleanup(): void;
}

/** Why namespaces cannot be used here (not root, no `ip`, no CAP_SYS_ADMIN), or null. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const probe = `fg-${process.pid}-probe`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.error !== undefined) return `cannot run ip (iproute2): ${add.error.message}`;
  if (add.status !== 0) return `ip netns add failed: ${add.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

function run(argv: readonly string[]): void {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr || r.error?.message}`);
}

export function createNetnsPair(): NetnsPair {
  const tag = randomBytes(2).toString('hex');
  const a = `fg-${process.pid}-${tag}-a`;
  const b = `fg-${process.pid}-${tag}-b`;
  // A /30 per pair inside the test's own namespaces; the third octet only keeps parallel pairs apart.
  const n = 1 + (randomBytes(1)[0] % 250);
  const addressA = `10.213.${n}.1`;
  const addressB = `10.213.${n}.2`;
  const created: string[] = [];
  const cleanup = (): void => {
    for (const ns of created.splice(0)) spawnSync('ip', ['netns', 'del', ns]);
  };
  try {
    for (const ns of [a, b]) {
      run(['ip', 'netns', 'add', ns]);
      created.push(ns);
      run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    // Created straight into the namespaces, so no interface name is ever taken in the root one.
    run([
      'ip',
      'link',
      'add',
      `fg${tag}a`,
      'netns',
      a,
      'type',
      'veth',
      'peer',
      'name',
      `fg${tag}b`,
      'netns',
      b,
    ]);
    run(['ip', '-n', a, 'addr', 'add', `${addressA}/30`, 'dev', `fg${tag}a`]);
    run(['ip', '-n', b, 'addr', 'add', `${addressB}/30`, 'dev', `fg${tag}b`]);
    run(['ip', '-n', a, 'link', 'set', `fg${tag}a`, 'up']);
    run(['ip', '-n', b, 'link', 'set', `fg${tag}b`, 'up']);
  } catch (err) {
    cleanup();
    throw err;
  }
  return { a, b, addressA, addressB, cleanup };
}
