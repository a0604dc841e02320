/**
 * The files generated from the schema sources, with the text each must have: the CRDs in crds/, their copies
 * in the Helm chart, and the published pool-file schema. Run as a script (`npm run schemas:generate`) it
 * writes them; the drift test compares them.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { POOL_SCHEMA } from '../../inference-runtime/config/poolSchema.js';
import { renderCrd } from './crdSchemas.js';

export const CRD_DIR = 'crds';
export const CHART_CRD_DIR = 'charts/mloffload/crds';
export const POOL_SCHEMA_FILE = 'inference-runtime/config/pool.schema.json';

export const defaultRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Repository-relative path -> the text it must hold. The chart's CRDs are crds/ rendered, byte for byte. */
export function generatedFiles(root = defaultRoot): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(path.join(root, CRD_DIR)).filter((f) => f.endsWith('.yaml')).sort()) {
    const text = renderCrd(readFileSync(path.join(root, CRD_DIR, name), 'utf8'));
    files.set(`${CRD_DIR}/${name}`, text);
    files.set(`${CHART_CRD_DIR}/${name}`, text);
  }
  files.set(POOL_SCHEMA_FILE, `${JSON.stringify(POOL_SCHEMA, null, 2)}\n`);
  return files;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const [file, text] of generatedFiles()) {
    const full = path.join(defaultRoot, file);
    let old: string | undefined;
    try {
      old = readFileSync(full, 'utf8');
    } catch {
      old = undefined;
    }
    if (old === text) continue;
    writeFileSync(full, text);
    console.log(`wrote ${file}`);
  }
}
