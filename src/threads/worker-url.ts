/**
 * The URL of a worker thread's module next to `moduleUrl` (pass import.meta.url). Built (dist/),
 * it is `name`.js. Run from the TypeScript sources through tsx (tests, benches), Node 20 does not
 * apply tsx's `--import` hook to worker threads, so a one-line ES module registers tsx's loader in
 * the worker first.
 */
export function workerUrl(moduleUrl: string, name: string): URL {
  if (!moduleUrl.endsWith('.ts')) return new URL(`./${name}.js`, moduleUrl);
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL(`./${name}.ts`, moduleUrl).href;
  const code = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(entry)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}
