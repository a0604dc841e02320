import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildAddon, NATIVE_SOURCES } from '../../deploy/nativeAddons.js';
import { loadNativeReadLists, type NativeReadLists } from '../../inference-runtime/http/floatLists.js';

/**
 * The native lists reader (inference-runtime/native/floatLists.c) built from the checkout's source into a
 * folder of its own, so that the tests hold this source, not an older build, to the JavaScript reader.
 * Undefined when there is no C compiler (CI installs one: .ci/run); a build that does not load throws.
 */
export function buildNativeReadLists(): NativeReadLists | undefined {
  if (spawnSync(process.env.CC || 'cc', ['--version']).status !== 0) return undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'mloffload-floatlists-'));
  try {
    const file = path.join(dir, 'floatLists.node');
    buildAddon(path.join(NATIVE_SOURCES, 'floatLists.c'), file);
    const native = loadNativeReadLists(file);
    if (!native) throw new Error(`${file} was built but does not load`);
    return native;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
