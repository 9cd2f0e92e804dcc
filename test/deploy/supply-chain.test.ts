/**
 * The dependency tree as package-lock.json pins it: every package comes from the npm registry with
 * an integrity hash, and the packages that run code at install time are exactly the two reviewed
 * below. Checked against node_modules too, so a lockfile that hides an install script fails here.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/collector-process.js';

interface LockPackage {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dev?: boolean;
  optional?: boolean;
  hasInstallScript?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

interface Lockfile {
  lockfileVersion: number;
  packages: Record<string, LockPackage>;
}

const REGISTRY = 'https://registry.npmjs.org/';

/**
 * The packages with install scripts, reviewed (scripts read in node_modules at these versions):
 * - cap 0.2.1 (optional; `flowgate agent`'s pcap source only): `install: node-gyp rebuild`
 *   compiles src/binding.cc against libpcap (-lpcap, headers from libpcap-dev) and nan. It fetches
 *   nothing itself; node-gyp needs Node's headers and downloads them from nodejs.org unless
 *   npm_config_nodedir points at local ones (Debian's nodejs ships them in /usr/include/node). The
 *   container build skips it (--ignore-scripts) and removes cap.
 * - esbuild 0.28.2 (dev, through tsx): `postinstall: node install.js` checks that the platform
 *   binary from the optional @esbuild/<platform> package (installed from the registry with its
 *   integrity hash) runs, and hard-links it over the JS shim. Only if that package is missing it
 *   runs `npm install @esbuild/<platform>` or downloads the tarball from registry.npmjs.org,
 *   checking the binary's SHA-256 against the hashes in esbuild's package.json.
 */
const INSTALL_SCRIPTS: Record<string, { script: string; dev: boolean; optional: boolean }> = {
  'node_modules/cap': { script: 'install: node-gyp rebuild', dev: false, optional: true },
  'node_modules/esbuild': { script: 'postinstall: node install.js', dev: true, optional: false },
};

const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
const entries = Object.entries(lock.packages).filter(([path]) => path !== '');

test('package-lock.json: lockfileVersion >= 2 and in step with package.json', () => {
  assert.ok(lock.lockfileVersion >= 2, `lockfileVersion ${lock.lockfileVersion}`);
  const root = lock.packages[''];
  for (const key of ['dependencies', 'devDependencies', 'optionalDependencies'] as const)
    assert.deepEqual(root[key] ?? {}, pkg[key] ?? {}, key);
  assert.ok(entries.length > 100, `${entries.length} packages`);
});

test('every package is a registry tarball with an integrity hash (no git, file, link or other host)', () => {
  const problems: string[] = [];
  for (const [path, p] of entries) {
    if (p.link === true) problems.push(`${path}: a link to ${p.resolved}`);
    // No `resolved`: npm wrote the lockfile with omit-lockfile-registry-resolved, which leaves it
    // out for registry tarballs only; npm ci then takes them from the configured registry and
    // checks them against `integrity`. Anything else (git, file:, another host) keeps its URL.
    if (p.resolved !== undefined && !p.resolved.startsWith(REGISTRY))
      problems.push(`${path}: resolved from ${p.resolved}`);
    if (!/^\d+\.\d+\.\d+/.test(p.version ?? '')) problems.push(`${path}: version ${p.version}`);
    if (!/^sha512-[A-Za-z0-9+/]+=*$/.test(p.integrity ?? ''))
      problems.push(`${path}: integrity ${p.integrity}`);
  }
  assert.deepEqual(problems, []);
});

test('the repository carries no .npmrc pointing npm at another registry', () => {
  const npmrc = join(REPO_ROOT, '.npmrc');
  if (!existsSync(npmrc)) return;
  assert.doesNotMatch(
    readFileSync(npmrc, 'utf8'),
    /registry\s*=(?!\s*https:\/\/registry\.npmjs\.org\/?\s*$)/m,
  );
});

test('the packages with install scripts are exactly the reviewed ones, in the lockfile and in node_modules', () => {
  const flagged = entries.filter(([, p]) => p.hasInstallScript === true).map(([path]) => path);
  assert.deepEqual(flagged.sort(), Object.keys(INSTALL_SCRIPTS).sort());
  for (const [path, expected] of Object.entries(INSTALL_SCRIPTS)) {
    assert.equal(lock.packages[path].dev === true, expected.dev, `${path} dev`);
    assert.equal(lock.packages[path].optional === true, expected.optional, `${path} optional`);
  }
  // What is installed says the same: lifecycle scripts, or a binding.gyp (npm runs node-gyp then).
  const found: Record<string, string> = {};
  for (const [path] of entries) {
    const manifest = join(REPO_ROOT, path, 'package.json');
    if (!existsSync(manifest)) continue; // an optional package for another platform
    const scripts =
      (JSON.parse(readFileSync(manifest, 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
    const lifecycle = ['preinstall', 'install', 'postinstall']
      .filter((s) => scripts[s] !== undefined)
      .map((s) => `${s}: ${scripts[s]}`);
    if (lifecycle.length === 0 && existsSync(join(REPO_ROOT, path, 'binding.gyp')))
      lifecycle.push('install: node-gyp rebuild');
    if (lifecycle.length > 0) found[path] = lifecycle.join('; ');
  }
  assert.deepEqual(
    found,
    Object.fromEntries(Object.entries(INSTALL_SCRIPTS).map(([path, e]) => [path, e.script])),
  );
});
