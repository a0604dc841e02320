import { createPrivateKey, X509Certificate } from 'node:crypto';
import type https from 'node:https';
import tls from 'node:tls';
import { parseApiKeys, type ApiKeyCheck } from './apiKeys.js';
import type { Logger } from './logger.js';
import { watchMountedFiles, type MountedFilesWatch } from './mountedFiles.js';

/** The mounted secrets a runtime serves with, and what to update when they change. */
export interface SecretReloadOptions {
  /** How often the files are re-read (folder events may bring a check forward). */
  intervalMs: number;
  log: Logger;
  apiKeys?: {
    file: string;
    /** The file's content the runtime started with. */
    initial: Buffer;
    check: ApiKeyCheck;
    /** Keys from elsewhere (MLOFFLOAD_API_KEYS), kept alongside the file's. */
    extra: readonly string[];
  };
  tls?: {
    certFile: string;
    keyFile: string;
    initial: { cert: Buffer; key: Buffer };
    server: https.Server;
  };
}

export interface SecretReload {
  /** Checks every file now; resolves once any change is applied or refused. */
  checkNow(): Promise<void>;
  close(): void;
}

/**
 * Keeps the API keys and the TLS certificate in step with their mounted files, the way a rotated Secret
 * reaches a pod, without a restart. A new certificate applies to new TLS connections
 * (`server.setSecureContext`); open connections keep the session they negotiated and are never dropped.
 * A new file that cannot be used (no keys; a certificate that does not parse or does not match its key)
 * leaves the previous one in force and logs a warning; a later fixed file is taken.
 */
export function reloadSecretsOnChange(options: SecretReloadOptions): SecretReload {
  const watches: MountedFilesWatch[] = [];
  const { log, intervalMs } = options;

  if (options.apiKeys) {
    const { file, initial, check, extra } = options.apiKeys;
    watches.push(
      watchMountedFiles(
        [file],
        [initial],
        ([content]) => {
          const keys = parseApiKeys(content!.toString('utf8'));
          if (keys.length === 0) {
            log.warn('api_keys_reload_refused', { file, reason: 'the new file holds no keys; the previous keys stay in force' });
            return;
          }
          check.replace([...keys, ...extra]);
          log.info('api_keys_reloaded', { file, keys: keys.length + extra.length });
        },
        { intervalMs },
      ),
    );
  }

  if (options.tls) {
    const { certFile, keyFile, initial, server } = options.tls;
    watches.push(
      watchMountedFiles(
        [certFile, keyFile],
        [initial.cert, initial.key],
        ([cert, key]) => {
          let fingerprint: string;
          let validTo: string;
          try {
            ({ fingerprint, validTo } = checkedPair(cert!, key!));
            server.setSecureContext({ cert, key });
          } catch (error) {
            // OpenSSL's and node's messages name the problem, never the key material.
            log.warn('tls_reload_refused', { certFile, keyFile, reason: `${(error as Error).message}; the previous certificate stays in force` });
            return;
          }
          log.info('tls_reloaded', { certFile, fingerprint256: fingerprint, validTo });
        },
        { intervalMs },
      ),
    );
  }

  return {
    checkNow: async () => {
      await Promise.all(watches.map((w) => w.check()));
    },
    close: () => {
      for (const w of watches) w.close();
    },
  };
}

/** Parses both, and refuses a key that does not belong to the certificate (a swap caught half-way, a typo). */
function checkedPair(cert: Buffer, key: Buffer): { fingerprint: string; validTo: string } {
  const x509 = new X509Certificate(cert);
  if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error('the private key does not match the certificate');
  // What setSecureContext will build, tried first so a refusal leaves the server untouched.
  tls.createSecureContext({ cert, key });
  return { fingerprint: x509.fingerprint256, validTo: x509.validTo };
}
