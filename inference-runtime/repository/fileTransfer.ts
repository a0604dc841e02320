import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ModelFetchError } from './fetchError.js';
import type { FileLocation } from './modelSource.js';
import { redactUrl } from './redact.js';
import { remoteGet, type RedirectPolicy } from './remoteGet.js';
import { timeoutSignal } from '../core/timeoutSignal.js';

export interface TransferLimits {
  /** Largest file accepted; bigger ones (by Content-Length or by counting) fail without filling the disk. */
  maxBytes: number;
  /** Deadline for one file, connection to last byte. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Where redirects may lead (same origin only by default) and how many are followed. */
  redirects?: RedirectPolicy;
}

/** A fully received file in the cache's temp folder, not yet visible under its digest. */
export interface Transferred {
  tempPath: string;
  sha256: string;
  size: number;
}

/**
 * Copies one file (local or http) into `tmpDir`, hashing as it goes. On any failure the temp file is
 * removed: a half file is never left behind, and never renamed into the cache.
 */
export async function transferToTemp(from: FileLocation, tmpDir: string, limits: TransferLimits): Promise<Transferred> {
  const tempPath = path.join(tmpDir, `${process.pid}-${randomBytes(8).toString('hex')}.part`);
  const fh = await open(tempPath, 'wx');
  let ok = false;
  try {
    const result = from.kind === 'local' ? await copyLocal(from.path, fh, limits) : await download(from.url, fh, limits);
    await fh.sync();
    ok = true;
    return { tempPath, ...result };
  } finally {
    await fh.close().catch(() => undefined);
    if (!ok) await unlink(tempPath).catch(() => undefined);
  }
}

async function copyLocal(file: string, fh: FileHandle, limits: TransferLimits): Promise<{ sha256: string; size: number }> {
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new ModelFetchError(`${file} is not a file`);
    size = st.size;
  } catch (err) {
    if (err instanceof ModelFetchError) throw err;
    throw new ModelFetchError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  if (size > limits.maxBytes) throw new ModelFetchError(`${file} is ${size} bytes, above the ${limits.maxBytes}-byte limit`);
  const hash = createHash('sha256');
  let received = 0;
  for await (const chunk of createReadStream(file, { signal: limits.signal })) {
    const buf = chunk as Buffer;
    received += buf.length;
    if (received > limits.maxBytes) throw new ModelFetchError(`${file} grew above the ${limits.maxBytes}-byte limit while reading`);
    hash.update(buf);
    await fh.write(buf);
  }
  return { sha256: hash.digest('hex'), size: received };
}

async function download(url: URL, fh: FileHandle, limits: TransferLimits): Promise<{ sha256: string; size: number }> {
  // Held here until the download ends (core/timeoutSignal.ts: a collectable timeout signal may never fire).
  const deadline = timeoutSignal(limits.timeoutMs, limits.signal);
  const signal = deadline.toAbortSignal();
  const where = redactUrl(url);
  let received = 0;
  let expected: number | undefined;
  try {
    const res = await remoteGet(url, signal, limits.redirects);
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw new ModelFetchError(`GET ${where}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    }
    const declared = res.headers.get('content-length');
    if (declared !== null && /^\d+$/.test(declared)) {
      expected = Number(declared);
      if (expected > limits.maxBytes) {
        await res.body?.cancel().catch(() => undefined);
        throw new ModelFetchError(`GET ${where}: ${expected} bytes announced, above the ${limits.maxBytes}-byte limit`);
      }
    }
    if (!res.body) throw new ModelFetchError(`GET ${where}: empty response`);
    const hash = createHash('sha256');
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (received > limits.maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new ModelFetchError(`GET ${where}: more than ${limits.maxBytes} bytes, download stopped`);
      }
      hash.update(value);
      await fh.write(value);
    }
    if (expected !== undefined && received !== expected) {
      throw new ModelFetchError(`GET ${where}: truncated, ${received} of ${expected} bytes received`);
    }
    return { sha256: hash.digest('hex'), size: received };
  } catch (err) {
    throw asFetchError(err, where, deadline.timedOut, limits, received, expected);
  } finally {
    deadline.clear();
  }
}

function asFetchError(
  err: unknown,
  where: string,
  timedOut: boolean,
  limits: TransferLimits,
  received: number,
  expected: number | undefined,
): ModelFetchError {
  if (err instanceof ModelFetchError) return err;
  if (timedOut) {
    return new ModelFetchError(`GET ${where}: timed out after ${limits.timeoutMs} ms (${received} bytes received)`, { cause: err });
  }
  if (limits.signal?.aborted) return new ModelFetchError(`GET ${where}: cancelled`, { cause: err });
  if (received > 0 || expected !== undefined) {
    // The body stream broke: the server or the network dropped the connection mid-file.
    const of = expected !== undefined ? ` of ${expected}` : '';
    return new ModelFetchError(`GET ${where}: truncated, connection closed after ${received}${of} bytes`, { cause: err });
  }
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (err as Error).message;
  return new ModelFetchError(`GET ${where}: ${detail}`, { cause: err });
}
