import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Where `npm run build` (deploy/nativeAddons.ts) puts the runtime's native addon `name`: in native/ next to
 * the compiled core/ folder; a runtime started from the sources (tsx) finds it in the checkout's dist/.
 */
export function nativeAddonFile(name: string): string {
  const compiled = fileURLToPath(new URL(`../native/${name}.node`, import.meta.url));
  const ofSources = fileURLToPath(new URL(`../../dist/inference-runtime/native/${name}.node`, import.meta.url));
  return existsSync(compiled) || !existsSync(ofSources) ? compiled : ofSources;
}

/**
 * Loads an addon and checks that it has `functions`; else why not. An addon the runtime cannot load is not
 * an error: every one of them has a slower or hungrier way around it.
 */
export function loadNativeAddon<T>(file: string, functions: ReadonlyArray<keyof T & string>): { addon: T } | { reason: string } {
  if (!existsSync(file)) return { reason: `${file} is not built (npm run build needs a C compiler for it)` };
  try {
    const addon = createRequire(import.meta.url)(file) as Record<string, unknown>;
    const missing = functions.filter((f) => typeof addon[f] !== 'function');
    if (missing.length > 0) return { reason: `${file} lacks ${missing.join(', ')} (built from an older source?)` };
    return { addon: addon as T };
  } catch (error) {
    // A library it links against is missing (libjpeg), or a symbol (musl has no malloc_trim).
    return { reason: `${file} did not load: ${(error as Error).message}` };
  }
}

/**
 * One function of an addon that has a JavaScript twin, loaded on first use for the whole process: `get()` is
 * the function, or null where the twin runs; `missing()` why it is null; `load(file)` takes it from another
 * file (a test's own build).
 */
export interface NativeFunction<F> {
  get(): F | null;
  missing(): string | undefined;
  load(file: string): F | null;
}

/** Function `name` of the runtime's addon `addon` (see nativeAddonFile), as a NativeFunction. */
export function nativeFunction<F>(addon: string, name: string): NativeFunction<F> {
  const from = (file: string): { fn: F } | { reason: string } => {
    const loaded = loadNativeAddon<Record<string, F>>(file, [name]);
    return 'addon' in loaded ? { fn: loaded.addon[name]! } : loaded;
  };
  let shared: { fn: F } | { reason: string } | undefined;
  const once = (): { fn: F } | { reason: string } => (shared ??= from(nativeAddonFile(addon)));
  return {
    get: () => {
      const loaded = once();
      return 'fn' in loaded ? loaded.fn : null;
    },
    missing: () => {
      const loaded = once();
      return 'reason' in loaded ? loaded.reason : undefined;
    },
    load: (file) => {
      const loaded = from(file);
      return 'fn' in loaded ? loaded.fn : null;
    },
  };
}
