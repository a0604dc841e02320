import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Notices when mounted files change content, the way the kubelet updates a Secret volume: each file is a
 * symlink `name -> ..data/name`, `..data -> ..2026_11_30_10_00_00.123/`, and an update renames a new
 * `..data` symlink over the old one. fs.watch does not report that reliably (the watched file's inode never
 * changes, events arrive for the folder or not at all, and differ between platforms), so the contents are
 * polled every `intervalMs` (a few small reads) and a folder event merely brings the next check forward.
 */
export interface MountedFilesOptions {
  /** Poll period (the fallback that always works). */
  intervalMs: number;
  /** Files larger than this are not read (a Secret is at most 1 MiB). */
  maxBytes?: number;
}

export interface MountedFilesWatch {
  /** Runs one check now (tests, and the folder events). Resolves when it and any change handler finished. */
  check(): Promise<void>;
  close(): void;
}

/**
 * Calls `onChange` with the files' new contents (in the order given) whenever their combined content
 * differs from the last contents seen: the initial ones, or the last ones handed to `onChange`, whether it
 * accepted them or not (a bad file is reported once, not on every poll). The files of one check come from
 * one generation: a check that saw a swap while it read them reads them again. Unreadable files (a removed
 * mount, an old generation deleted under a read) are skipped until they read again. Never throws from a timer.
 */
export function watchMountedFiles(
  files: readonly string[],
  initial: readonly Buffer[],
  onChange: (contents: Buffer[]) => void | Promise<void>,
  options: MountedFilesOptions,
): MountedFilesWatch {
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  let seen = fingerprint(initial);
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  /** Where each file resolves now: a kubelet swap moves every file to the new generation's folder. */
  const generation = (): Promise<string[]> => Promise.all(files.map((f) => realpath(f)));

  const checkOnce = async (): Promise<void> => {
    let contents: Buffer[];
    try {
      const before = await generation();
      contents = await Promise.all(files.map((f) => readBounded(f, maxBytes)));
      const after = await generation();
      // A swap while the files were read may have given some of them from each generation: read them again.
      if (before.some((p, i) => p !== after[i])) {
        again = true;
        return;
      }
    } catch {
      return;
    }
    const now = fingerprint(contents);
    if (now === seen || closed) return;
    seen = now;
    await onChange(contents);
  };

  const check = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await checkOnce().catch(() => undefined);
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer = setInterval(() => void check(), options.intervalMs);
  timer.unref();
  const watchers: FSWatcher[] = [];
  for (const dir of new Set(files.map((f) => path.dirname(path.resolve(f))))) {
    try {
      const w = watch(dir, { persistent: false }, () => void check());
      w.on('error', () => w.close());
      watchers.push(w);
    } catch {
      // No watch support here (some container filesystems): the poll alone does the job.
    }
  }

  return {
    check,
    close: () => {
      closed = true;
      clearInterval(timer);
      for (const w of watchers) w.close();
    },
  };
}

function fingerprint(contents: readonly Buffer[]): string {
  const h = createHash('sha256');
  for (const c of contents) h.update(createHash('sha256').update(c).digest());
  return h.digest('hex');
}

async function readBounded(file: string, maxBytes: number): Promise<Buffer> {
  // Checked before reading, so a path pointed at a device or a huge file costs nothing.
  const st = await stat(file);
  if (!st.isFile() || st.size > maxBytes) throw new RangeError(`${file} is not a file of at most ${maxBytes} bytes`);
  const data = await readFile(file);
  if (data.length > maxBytes) throw new RangeError(`${file} grew above ${maxBytes} bytes`);
  return data;
}
