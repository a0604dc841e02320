/**
 * The runtime's folders form layers: the folder import graph, computed from the sources, has no cycle. Type
 * imports count too: a folder that needs another's types depends on it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../inference-runtime');

/** A file's folder as a layer: the first folder under inference-runtime/ (subfolders belong to it), or `.` for the entry points. */
function layerOf(file: string): string {
  const rel = path.relative(root, file);
  const parts = rel.split(path.sep);
  return parts.length > 1 ? parts[0] : '.';
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.isFile() && e.name.endsWith('.ts') ? [full] : [];
  });
}

/** Relative module specifiers of a file: static imports and re-exports, and dynamic `import()`. */
export function relativeImports(text: string): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/g, /\bimport\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g, /^\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/gm];
  for (const pattern of patterns) for (const m of text.matchAll(pattern)) found.push(m[1]);
  return found;
}

interface Edge {
  from: string;
  to: string;
  /** One file-level import that makes the edge, for the failure message. */
  example: string;
}

export function folderGraph(files: readonly string[], read: (file: string) => string): Map<string, Map<string, Edge>> {
  const graph = new Map<string, Map<string, Edge>>();
  for (const file of files) {
    const from = layerOf(file);
    if (!graph.has(from)) graph.set(from, new Map());
    for (const spec of relativeImports(read(file))) {
      const target = path.resolve(path.dirname(file), spec);
      if (!target.startsWith(root + path.sep)) continue;
      const to = layerOf(target);
      if (to === from) continue;
      if (!graph.get(from)!.has(to)) {
        graph.get(from)!.set(to, { from, to, example: `${path.relative(root, file)} -> ${path.relative(root, target).replace(/\.js$/, '.ts')}` });
      }
    }
  }
  return graph;
}

/** Strongly connected components of more than one folder (Tarjan): each is a cycle. */
export function cycles(graph: Map<string, Map<string, Edge>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indices.get(w)!));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return out;
}

describe('runtime layering', () => {
  it('finds a cycle when there is one (the check can fail)', () => {
    const files = [path.join(root, 'a/x.ts'), path.join(root, 'b/y.ts'), path.join(root, 'c/z.ts')];
    const text: Record<string, string> = {
      [files[0]]: "import { y } from '../b/y.js';",
      [files[1]]: "import type { Z } from '../c/z.js';",
      [files[2]]: "const x = await import('../a/x.js');",
    };
    expect(cycles(folderGraph(files, (f) => text[f]))).to.deep.equal([['a', 'b', 'c']]);
  });

  it('has no folder-level import cycle in inference-runtime/', () => {
    const graph = folderGraph(sources(root), (f) => readFileSync(f, 'utf8'));
    const found = cycles(graph).map((component) => {
      const inside = new Set(component);
      const edges = component.flatMap((from) => [...graph.get(from)!.values()].filter((e) => inside.has(e.to)).map((e) => `  ${e.from} -> ${e.to} (${e.example})`));
      return `${component.join(' <-> ')}\n${edges.join('\n')}`;
    });
    expect(found, `folder import cycles:\n${found.join('\n')}`).to.deep.equal([]);
  });
});
