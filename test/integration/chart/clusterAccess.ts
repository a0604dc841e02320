// Credentials and processes for running the operator the way the chart deploys it: as its
// ServiceAccount (a TokenRequest token), with the arguments the chart renders.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { repoRoot } from '../../env/cacheLayout.js';
import type { TestControlPlane } from '../../helpers/controlPlane.js';
import { run } from './chartTools.js';
import { terminate } from '../../helpers/childProcess.js';

interface RawKubeconfig {
  clusters: { name: string; cluster: Record<string, unknown> }[];
}

/** Runs the cluster's kubectl as admin; rejects with stderr on failure. */
export async function adminKubectl(cp: TestControlPlane, args: readonly string[], input?: string): Promise<string> {
  const result = await run(cp.kubectl, [`--kubeconfig=${cp.kubeconfigPath}`, ...args], { input, timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** A kubeconfig file that authenticates as the ServiceAccount with a short-lived token. */
export async function serviceAccountKubeconfig(cp: TestControlPlane, namespace: string, serviceAccount: string, file: string): Promise<string> {
  const token = (await adminKubectl(cp, ['-n', namespace, 'create', 'token', serviceAccount, '--duration=1h'])).trim();
  const admin = load(readFileSync(cp.kubeconfigPath, 'utf8')) as RawKubeconfig;
  const cluster = admin.clusters[0].cluster;
  const user = `system:serviceaccount:${namespace}:${serviceAccount}`;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'sa', context: { cluster: 'test', user, namespace } }],
    'current-context': 'sa',
  };
  writeFileSync(file, dump(config), { mode: 0o600 });
  return file;
}

export interface LogLine {
  level?: string;
  msg?: string;
  [field: string]: unknown;
}

export interface OperatorProcess {
  readonly child: ChildProcess;
  readonly port: number;
  logs(): LogLine[];
  /** SIGTERM, then the exit code (SIGKILL after the timeout). */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** Starts operator/main.ts (through tsx) with the given CLI arguments and waits for "operator started". */
export async function startOperatorProcess(args: readonly string[], env: NodeJS.ProcessEnv): Promise<OperatorProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'operator', 'main.ts'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const raw: string[] = [];
  let buffered = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = new Promise<number>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const text of parts) {
        raw.push(text);
        try {
          const line = JSON.parse(text) as LogLine;
          lines.push(line);
          if (line.msg === 'operator started') resolve(Number(line.port));
        } catch {
          // Not a log line (e.g. the usage text on a bad flag).
        }
      }
    });
    child.stdout.resume();
    void exited.then((code) => reject(new Error(`operator exited with ${code} before starting:\n${raw.join('\n')}`)));
  });
  const port = await started;
  return {
    child,
    port,
    logs: () => [...lines],
    stop: (timeoutMs = 40_000) => terminate(child, exited, timeoutMs),
  };
}
