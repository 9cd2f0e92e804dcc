import { readFileSync } from 'node:fs';
import type { TemplateDecoder } from '../decode/template/template-decoder.js';
import { writeFileAtomicSync } from './atomic-write.js';

/**
 * The template DB: NetFlow v9 / IPFIX templates, sampling rates and exporter boot times of UDP
 * exporters, saved so that data decodes at once after a collector restart instead of waiting for
 * the next template refresh (often minutes, on some devices 30 minutes).
 */

/**
 * Writes the decoder's UDP state to `path` atomically (`writeFileAtomicSync`).
 * Returns the number of templates written.
 */
export function saveTemplateDb(path: string, decoder: TemplateDecoder, nowMs: number): number {
  const state = decoder.saveState(nowMs);
  const text = JSON.stringify(state);
  writeFileAtomicSync(path, text);
  let templates = 0;
  for (const e of state.exporters) for (const d of e.domains) templates += d.templates.length;
  return templates;
}

/**
 * Loads `path` into the decoder; templates not refreshed within `limits.templateTtlMs` are
 * skipped. Returns the number of templates loaded: 0 when the file does not exist (first start).
 * Throws an Error naming the file when it cannot be read or is not a template DB; the caller
 * decides whether to start without it.
 */
export function loadTemplateDb(path: string, decoder: TemplateDecoder, nowMs: number): number {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw new Error(`template DB ${path} cannot be read: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`template DB ${path} is corrupt (not JSON: ${(e as Error).message})`);
  }
  try {
    return decoder.loadState(value, nowMs);
  } catch (e) {
    throw new Error(`template DB ${path} is corrupt (${(e as Error).message})`);
  }
}
