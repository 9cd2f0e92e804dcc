/**
 * The web dashboard: a static page (src/serve/dashboard/) and the uPlot chart library from
 * node_modules, served by the API process. Only a fixed list of files is served (no path from the
 * request ever reaches the file system), read once at registration. The page has its own strict
 * CSP: scripts, styles and API calls from this origin only, no inline code (index.html has none:
 * keep it that way, or the browser refuses it), no plugins, no <base>, forms posted to this origin
 * only, never framed. The API adds the other security headers to every response (api-server.ts).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/** img-src data: for the page's empty favicon (`href="data:,"`, so the browser asks for none). */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const HTML = 'text/html; charset=utf-8';

const pageFile = (name: string) => fileURLToPath(new URL(`../dashboard/${name}`, import.meta.url));
const require = createRequire(import.meta.url);

/** URL path -> [file, content type]. The page loads nothing else. */
const ASSETS: Readonly<Record<string, readonly [string, string]>> = {
  '/': [pageFile('index.html'), HTML],
  '/dashboard/app.js': [pageFile('app.js'), JS],
  '/dashboard/api.js': [pageFile('api.js'), JS],
  '/dashboard/format.js': [pageFile('format.js'), JS],
  '/dashboard/charts.js': [pageFile('charts.js'), JS],
  '/dashboard/style.css': [pageFile('style.css'), CSS],
  '/dashboard/uPlot.esm.js': [require.resolve('uplot/dist/uPlot.esm.js'), JS],
  '/dashboard/uPlot.min.css': [require.resolve('uplot/dist/uPlot.min.css'), CSS],
};

/** Paths served without a token: the page must load before it can ask for one. */
export const DASHBOARD_PATHS: readonly string[] = Object.keys(ASSETS);

/** The file's content, or null when it is missing (a build that did not copy the page). */
function readAsset(file: string): Buffer | null {
  try {
    return readFileSync(file);
  } catch {
    return null;
  }
}

export function registerDashboardRoutes(app: FastifyInstance): void {
  for (const [path, [file, type]] of Object.entries(ASSETS)) {
    const body = readAsset(file);
    app.get(path, async (_req, reply) => {
      // The API keeps serving without its page: only the dashboard is unavailable.
      if (body === null)
        return reply.code(503).send({ error: `dashboard file ${file} is missing from this installation` });
      return reply.header('content-type', type).header('content-security-policy', DASHBOARD_CSP).send(body);
    });
  }
}
