// Prints the node_modules folders that the named packages need at run time, resolved from
// package-lock.json the way Node resolves them (nearest node_modules upwards), one path per line:
//
//   node deploy/dependency-closure.mjs js-yaml prom-client | xargs cp -r --parents -t /out
//
// The operator image uses it to ship its two dependencies instead of the runtime's ~750 MB of
// tfjs, onnxruntime and image libraries. Optional dependencies that are not installed are skipped.
import { readFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'));
const packages = lock.packages ?? {};
const keep = new Set();

function resolve(name, from) {
  let dir = from;
  for (;;) {
    const key = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (packages[key]) return key;
    if (!dir) return undefined;
    const parent = dir.lastIndexOf('/node_modules/');
    dir = parent < 0 ? '' : dir.slice(0, parent);
  }
}

function visit(name, from, optional) {
  const key = resolve(name, from);
  if (!key) {
    if (optional) return;
    throw new Error(`${name} (needed by ${from || 'the package'}) is not in package-lock.json`);
  }
  const entry = packages[key];
  if (keep.has(key) || entry.dev) return;
  keep.add(key);
  for (const dep of Object.keys(entry.dependencies ?? {})) visit(dep, key, false);
  for (const dep of Object.keys(entry.optionalDependencies ?? {})) visit(dep, key, true);
  for (const dep of Object.keys(entry.peerDependencies ?? {})) {
    visit(dep, key, entry.peerDependenciesMeta?.[dep]?.optional === true);
  }
}

const roots = process.argv.slice(2);
if (roots.length === 0) {
  process.stderr.write('usage: node deploy/dependency-closure.mjs <package>...\n');
  process.exit(2);
}
for (const name of roots) visit(name, '', false);
process.stdout.write([...keep].sort().join('\n') + '\n');
