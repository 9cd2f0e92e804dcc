import cliProgress from 'cli-progress';

/** A byte progress bar on `err` (stderr) for long file work: `flowgate decode`, `flowgate ingest`. */
export function byteProgressBar(
  err: NodeJS.WritableStream,
  label: string,
  total: number,
): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar(
    {
      stream: err,
      format: `${label} [{bar}] {percentage}% | {value}/{total} bytes | eta {eta}s`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}
