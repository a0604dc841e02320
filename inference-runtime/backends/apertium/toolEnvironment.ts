import { existsSync } from 'node:fs';

let cached: NodeJS.ProcessEnv | undefined;

/**
 * The environment of every Apertium process: the runtime's, with a locale the node actually has. The tools
 * read UTF-8 whatever the locale (lttoolbox works on ICU strings), but some abort at start-up on a locale
 * name the C library cannot load: a distroless image has no C.UTF-8 files (Debian ships them in libc-bin),
 * so a `LANG=C.UTF-8` inherited from a build or a pod spec would take every pipeline down. C.UTF-8 where it
 * is installed (as on a developer's machine, matching the `apertium` command there), plain C otherwise.
 */
export function apertiumEnvironment(): NodeJS.ProcessEnv {
  if (!cached) {
    const locale = existsSync('/usr/lib/locale/C.utf8') ? 'C.UTF-8' : 'C';
    const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: locale };
    delete env.LANGUAGE;
    cached = env;
  }
  return cached;
}
