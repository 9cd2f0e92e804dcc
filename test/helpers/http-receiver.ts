/**
 * A webhook endpoint for tests, run as its own process: `node --import tsx http-receiver.ts PORT`
 * (0 for any free port) prints `listening PORT` on stdout. It records every POST it accepts and
 * can be told, on its control endpoint, how to answer the next requests:
 *   POST /_control {"status":500|429|503, "retryAfter":"1", "delayMs":3000, "times":2, "echoHeaders":true}
 *     the next `times` requests (all, when absent) are delayed by delayMs, then answered with
 *     status (and Retry-After); echoHeaders puts the request headers in the error body.
 *   POST /_control {} back to answering 200 at once.
 *   GET /_received -> {"attempts": n, "accepted": [{"path","headers","body"}]}
 */
import { createServer, type IncomingMessage } from 'node:http';

interface Mode {
  status: number;
  retryAfter?: string;
  delayMs: number;
  times: number;
  echoHeaders: boolean;
}

interface Accepted {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** Milliseconds since the receiver started. */
  at: number;
}

const started = Date.now();
const accepted: Accepted[] = [];
let attempts = 0;
let mode: Mode | null = null;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const server = createServer(async (req, res) => {
  const body = await readBody(req);
  const path = req.url ?? '/';
  if (path === '/_control') {
    const m = JSON.parse(body === '' ? '{}' : body) as Partial<Mode>;
    mode =
      m.status === undefined && m.delayMs === undefined
        ? null
        : {
            status: m.status ?? 200,
            retryAfter: m.retryAfter,
            delayMs: m.delayMs ?? 0,
            times: m.times ?? Number.POSITIVE_INFINITY,
            echoHeaders: m.echoHeaders ?? false,
          };
    res.end('ok');
    return;
  }
  if (path === '/_received') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ attempts, accepted }));
    return;
  }
  attempts++;
  const now = mode;
  if (now !== null && now.times > 0) {
    now.times--;
    if (now.times === 0) mode = null;
    if (now.delayMs > 0) await new Promise((r) => setTimeout(r, now.delayMs));
    if (now.status >= 300) {
      if (now.retryAfter !== undefined) res.setHeader('retry-after', now.retryAfter);
      res.statusCode = now.status;
      res.end(now.echoHeaders ? `rejected, you sent ${JSON.stringify(req.headers)}` : 'rejected');
      return;
    }
  }
  accepted.push({ path, headers: req.headers, body, at: Date.now() - started });
  res.end('ok');
});

server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr !== null ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
