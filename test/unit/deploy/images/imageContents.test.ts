// What goes into an image: the lockfile closure for one platform, the pruning rules, the import scan.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { importGraph } from '../../../../deploy/images/appTree.js';
import { type Lockfile, dependencyClosure, runsOn } from '../../../../deploy/images/dependencyClosure.js';
import type { Platform } from '../../../../deploy/images/pins.js';
import { pruneRuleFor } from '../../../../deploy/images/prune.js';

const linuxX64: Platform = { os: 'linux', cpu: 'x64', libc: 'glibc', debianArch: 'amd64' };

const lock: Lockfile = {
  packages: {
    '': {},
    'node_modules/app': { version: '1.0.0', dependencies: { shared: '^1', native: '^1' } },
    'node_modules/shared': { version: '1.0.0' },
    'node_modules/app/node_modules/shared': { version: '2.0.0' },
    'node_modules/native': { version: '1.0.0', optionalDependencies: { 'native-linux-x64': '1', 'native-darwin-arm64': '1', 'native-linuxmusl-x64': '1' } },
    'node_modules/native-linux-x64': { version: '1.0.0', optional: true, os: ['linux'], cpu: ['x64'], libc: ['glibc'] },
    'node_modules/native-darwin-arm64': { version: '1.0.0', optional: true, os: ['darwin'], cpu: ['arm64'] },
    'node_modules/native-linuxmusl-x64': { version: '1.0.0', optional: true, os: ['linux'], cpu: ['x64'], libc: ['musl'] },
    'node_modules/tool': { version: '1.0.0', dev: true },
    'node_modules/needs-mac': { version: '1.0.0', dependencies: { 'native-darwin-arm64': '1' } },
  },
};

describe('image contents', () => {
  describe('dependencyClosure', () => {
    it("resolves nested copies as node does and keeps only this platform's optional packages", () => {
      expect(dependencyClosure(lock, ['app'], linuxX64)).to.deep.equal([
        'node_modules/app',
        'node_modules/app/node_modules/shared',
        'node_modules/native',
        'node_modules/native-linux-x64',
      ]);
    });

    it('refuses a required package that does not run on the platform, and development packages never come in', () => {
      expect(() => dependencyClosure(lock, ['needs-mac'], linuxX64)).to.throw(/native-darwin-arm64 .* does not run on linux-x64-glibc/);
      expect(dependencyClosure(lock, ['tool'], linuxX64)).to.deep.equal([]);
    });

    it("follows npm's os/cpu/libc rules, including exclusions", () => {
      fc.assert(
        fc.property(fc.constantFrom('linux', 'darwin', 'win32'), fc.constantFrom('x64', 'arm64'), (os, cpu) => {
          const p: Platform = { ...linuxX64, os, cpu };
          expect(runsOn({}, p)).to.equal(true);
          expect(runsOn({ os: [os] }, p)).to.equal(true);
          expect(runsOn({ os: [`!${os}`] }, p)).to.equal(false);
          expect(runsOn({ os: ['!aix'], cpu: [cpu] }, p)).to.equal(true);
          expect(runsOn({ cpu: ['ia32'] }, p)).to.equal(false);
        }),
      );
    });
  });

  describe('prune rules', () => {
    const removed = (pkg: string, file: string, main?: string) => pruneRuleFor(pkg, { main }, file, linuxX64) !== undefined;

    it('never remove a licence file or package.json, whatever the package and folder', () => {
      fc.assert(
        fc.property(
          fc.constantFrom('onnxruntime-node', '@tensorflow/tfjs-core', '@vladmandic/human', 'koa'),
          fc.array(fc.constantFrom('dist', 'bin', 'lib', 'models', 'napi-v6', 'darwin'), { maxLength: 3 }),
          fc.constantFrom('LICENSE', 'LICENSE.md', 'license', 'COPYING', 'NOTICE.txt', 'package.json'),
          (pkg, dirs, name) => {
            const file = [...dirs, name].join('/');
            // A nested package.json (a folder's own, e.g. in tfjs' dist) goes with its folder.
            if (name === 'package.json' && dirs.length > 0) return;
            expect(removed(pkg, file, 'dist/tf-core.node.js'), file).to.equal(false);
          },
        ),
      );
    });

    it('keep only linux/x64 of onnxruntime-node and what node loads of tfjs', () => {
      expect(removed('onnxruntime-node', 'bin/napi-v6/linux/x64/libonnxruntime.so.1')).to.equal(false);
      expect(removed('onnxruntime-node', 'bin/napi-v6/linux/arm64/libonnxruntime.so.1')).to.equal(true);
      expect(removed('onnxruntime-node', 'bin/napi-v6/win32/x64/onnxruntime.dll')).to.equal(true);
      expect(removed('onnxruntime-node', 'dist/index.js')).to.equal(false);
      const main = './dist/tf-backend-wasm.node.js';
      expect(removed('@tensorflow/tfjs-backend-wasm', 'dist/tf-backend-wasm.node.js', main)).to.equal(false);
      expect(removed('@tensorflow/tfjs-backend-wasm', 'dist/tfjs-backend-wasm-simd.wasm', main)).to.equal(false);
      expect(removed('@tensorflow/tfjs-backend-wasm', 'dist/tf-backend-wasm.min.js', main)).to.equal(true);
      expect(removed('@tensorflow/tfjs-backend-wasm', 'dist/kernels/Abs.js', main)).to.equal(true);
      // A package whose main is not a node bundle keeps its dist tree.
      expect(removed('@tensorflow/tfjs-other', 'dist/index.js', 'dist/index.js')).to.equal(false);
      expect(removed('@vladmandic/human', 'models/emotion.bin')).to.equal(false);
      expect(removed('@vladmandic/human', 'dist/human.node.js')).to.equal(true);
      expect(removed('koa', 'lib/application.js')).to.equal(false);
      expect(removed('koa', 'lib/application.js.map')).to.equal(true);
      expect(removed('koa', 'index.d.ts')).to.equal(true);
    });
  });

  describe('importGraph', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'mloffload-imports-'));
      mkdirSync(join(dir, 'sub'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('follows relative imports and tells static packages from on-demand ones', () => {
      writeFileSync(join(dir, 'main.js'), "import { a } from './sub/a.js';\nimport yaml from 'js-yaml';\nexport * from './b.js';\nconst x = 'from';\n");
      writeFileSync(join(dir, 'sub', 'a.js'), "import { Counter } from 'prom-client/lib/counter';\nimport fs from 'node:fs';\nimport path from 'path';\nexport const a = async () => (await import('@kubernetes/client-node')).KubeConfig;\n");
      writeFileSync(join(dir, 'b.js'), "export const b = () => import('./sub/lazy.js');\n");
      writeFileSync(join(dir, 'sub', 'lazy.js'), 'export {};\n');
      writeFileSync(join(dir, 'unused.js'), "import 'koa';\n");
      const g = importGraph([join(dir, 'main.js')]);
      expect(g.staticPackages).to.deep.equal(['js-yaml', 'prom-client']);
      expect(g.dynamicPackages).to.deep.equal(['@kubernetes/client-node']);
      expect(g.files.map((f) => f.slice(dir.length + 1))).to.deep.equal(['b.js', 'main.js', 'sub/a.js', 'sub/lazy.js']);
    });

    it('fails when an imported file was not compiled', () => {
      writeFileSync(join(dir, 'main.js'), "import './missing.js';\n");
      expect(() => importGraph([join(dir, 'main.js')])).to.throw(/missing\.js is imported but was not compiled/);
    });
  });
});
