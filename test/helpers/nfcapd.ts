import { type ChildProcess, spawn } from 'node:child_process';
import { stopChild } from './child-process.js';

/**
 * nfcapd (nfdump's collector, from Debian) as the independent receiver some tests compare with.
 * Started in the foreground; resolves once it reports its startup (its socket is bound).
 */
export async function startNfcapd(
  dir: string,
  port: number,
): Promise<{ proc: ChildProcess; log: () => string }> {
  const proc = spawn('nfcapd', ['-w', dir, '-p', String(port), '-b', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const log = () => text.slice(-2000);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nfcapd did not start within 5 s:\n${log()}`)), 5000);
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('Startup')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`nfcapd exited (${code}) before starting:\n${log()}`));
    });
  });
  return { proc, log };
}

/** SIGTERM makes nfcapd flush and close its current file; SIGKILL after 10 s if it hangs. */
export async function stopNfcapd(proc: ChildProcess): Promise<void> {
  await stopChild(proc, 10_000);
}
