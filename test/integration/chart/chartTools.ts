// Runs the helm binary of the test toolchain against charts/mloffload and reads what it renders.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump, loadAll } from 'js-yaml';
import { ensureClientTools } from '../../env/build.js';
import { cacheLayout, repoRoot } from '../../env/cacheLayout.js';

export const chartDir = join(repoRoot, 'charts', 'mloffload');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A Kubernetes object as rendered: typed enough to navigate, the rest left open. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export function toolPath(name: 'helm' | 'kubectl'): string {
  const layout = cacheLayout();
  ensureClientTools(layout);
  return layout.binary(name);
}

/** Runs a command and resolves with its exit code and output (a non-zero exit is a result, not an error). */
export function run(file: string, args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      [...args],
      { timeout: options.timeoutMs ?? 60_000, maxBuffer: 32 * 1024 * 1024, env: options.env ?? process.env },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export function helm(args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  // HELM_* state folders in a throw-away place: the tests never touch the user's helm configuration.
  const home = join(tmpdir(), 'mloffload-helm-test');
  const env = {
    ...process.env,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    ...options.env,
  };
  return run(toolPath('helm'), args, { env, timeoutMs: options.timeoutMs });
}

export interface RenderOptions {
  values?: Record<string, unknown>;
  release?: string;
  namespace?: string;
  includeCrds?: boolean;
}

/** `helm template` with a values file; rejects with helm's message when it refuses. */
export async function renderChart(options: RenderOptions = {}): Promise<Manifest[]> {
  const result = await templateChart(options);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return parseManifests(result.stdout);
}

export async function templateChart(options: RenderOptions = {}): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'mloffload-values-'));
  try {
    const args = ['template', options.release ?? 'mlo', chartDir, '--namespace', options.namespace ?? 'mloffload-system'];
    if (options.values) {
      const file = join(dir, 'values.yaml');
      writeFileSync(file, dump(options.values));
      args.push('--values', file);
    }
    if (options.includeCrds) args.push('--include-crds');
    return await helm(args);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function parseManifests(text: string): Manifest[] {
  return loadAll(text).filter((doc): doc is Manifest => typeof doc === 'object' && doc !== null);
}

export function findManifest(manifests: readonly Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, rendered ${found.length}: ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`);
  }
  return found[0];
}

export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
}

export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: Record<string, unknown>[];
  affinity?: unknown;
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
}

export interface DeploymentManifest extends Manifest {
  spec: {
    replicas?: number;
    strategy?: { type?: string; rollingUpdate?: Record<string, unknown> };
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
  };
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
}

export interface RoleManifest extends Manifest {
  rules: PolicyRule[];
}
