// The two images: what each takes from the build. Their ENTRYPOINT, USER, ENV and labels live in the
// Containerfiles (deploy/<name>.Dockerfile), which buildah builds from the context `npm run images` prepares.
import { join } from 'node:path';
import { defaultPool } from '../../inference-runtime/config/defaultPool.js';
import type { AppContents } from './appTree.js';
import { repoRoot } from './pins.js';

/** `@scope/name` of every `npm:@scope/name/path` source of the built-in pool. */
function builtInPoolPackages(): string[] {
  const names = defaultPool().models.flatMap((m) => {
    const match = /^npm:((?:@[^/]+\/)?[^/]+)\//.exec(m.source.uri);
    return match ? [match[1]] : [];
  });
  return [...new Set(names)].sort();
}

export type ImageName = 'inference-runtime' | 'operator';

export interface ImageDefinition {
  name: ImageName;
  containerfile: string;
  description: string;
  contents: AppContents;
  /** Debian packages of this image besides the shared base (with their dependencies). */
  debianPackages?: readonly string[];
}

/** Where the runtime keeps fetched and compiled models (the Deployment mounts a volume here). */
export const RUNTIME_MODEL_CACHE = '/var/cache/mloffload/models';

/** The client SDK's compiled ES modules, relative to dist/ (and to clients/typescript/dist in the repository). */
export const SDK_DIST = 'clients/typescript/dist';

export const images: Readonly<Record<ImageName, ImageDefinition>> = {
  'inference-runtime': {
    name: 'inference-runtime',
    containerfile: join(repoRoot, 'deploy', 'inference-runtime.Dockerfile'),
    description: 'mloffload inference runtime: a model pool served over REST on edge nodes',
    // The speech recogniser (Debian's python3 over libpocketsphinx3, and the US English model), the Apertium
    // engine and the language pairs of the built-in pool (translation-eng-spa, translation-spa-eng).
    // install-info answers readline-common's `dpkg | install-info` (apertium -> gawk -> libreadline8); the
    // dpkg that python3-minimal depends on is extracted and then removed (debianBase.ts). libjpeg-turbo for
    // the JPEG decode addon (inference-runtime/native/jpegDecode.c).
    debianPackages: ['python3-minimal', 'libpython3.11-stdlib', 'libpocketsphinx3', 'pocketsphinx-en-us', 'apertium', 'apertium-eng-spa', 'install-info', 'libjpeg62-turbo'],
    contents: {
      // All of it: tasks, backends and the pool loader are imported on demand.
      dist: { tree: 'inference-runtime' },
      // The packages the built-in pool reads its weights from are files to the runtime, not imports.
      packages: { imports: 'static-and-dynamic', extra: builtInPoolPackages() },
      // The demo page; the compiled server looks for it next to its own folder. The speech recogniser's
      // script (run by Debian's python3 over libpocketsphinx3, both in the base) and the dialog corpora sit
      // beside the compiled modules that load them.
      assets: [
        ['inference-runtime/static', 'dist/inference-runtime/static'],
        ['inference-runtime/backends/pocketsphinx/recogniser.py', 'dist/inference-runtime/backends/pocketsphinx/recogniser.py'],
        ['inference-runtime/config/corpora', 'dist/inference-runtime/config/corpora'],
      ],
      // The client SDK's ES modules, which the demo page loads from /demo/sdk/ (found next to dist/inference-runtime).
      compiledAssets: [SDK_DIST],
      writableDirs: [RUNTIME_MODEL_CACHE],
    },
  },
  operator: {
    name: 'operator',
    containerfile: join(repoRoot, 'deploy', 'operator.Dockerfile'),
    description: 'mloffload operator: reconciles MLModel and MLService resources',
    contents: {
      // Only what main.js imports statically: @kubernetes/client-node is imported on demand for kubeconfigs
      // with exec or auth-provider plugins, which are for running the operator outside the cluster.
      dist: { entryGraph: 'operator/main.js' },
      packages: { imports: 'static', extra: [] },
      assets: [],
      writableDirs: [],
    },
  },
};
