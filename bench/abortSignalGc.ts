/**
 * What one object with a hidden class (V8 map) of its own per request costs the garbage collector on Node.js
 * 20, apart from any runtime code: a bare `node:http` server that reads each body (89 KB, the size of a
 * `:predict` body) and answers 2 ms later, making per request one of:
 *
 * - nothing;
 * - `new AbortController().signal` (Node 20 swaps a fresh EventTarget's prototype, then adds fields: a map
 *   per signal);
 * - the runtime's CancelController (inference-runtime/core/cancelSignal.ts), which replaced it;
 * - a plain `new EventTarget()`;
 * - `{ ...labels, outcome }`, an object literal opening with a spread and then adding a key (a map per object);
 * - `Object.assign({}, labels, { outcome })`, the same object as the request path now builds it;
 * - an entry in a long-lived Set (added at the request, deleted at the answer), as the server kept its
 *   responses in flight: V8 rebuilds the Set's table every few requests, and a rebuilt table links to its
 *   successor;
 * - an entry in the runtime's InFlight list (inference-runtime/core/inFlight.ts), which replaced it.
 *
 * Each server runs pinned to core 1 with `--trace-gc --trace-gc-nvp`, driven by autocannon on core 0; the
 * table gives young-generation collections per 1000 requests, the bytes an average one found alive, and full
 * collections per 1000 requests.
 *
 *   npx tsx bench/abortSignalGc.ts [--seconds 5]
 */
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CancelController } from '../inference-runtime/core/cancelSignal.js';
import { InFlight } from '../inference-runtime/core/inFlight.js';
import { GC_TRACE_FLAGS, gcFigures, measureGc, type GcCounts } from './gcTrace.js';
import { httpLoad } from './httpLoad.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, serve: { type: 'string' } } });
const MODES = [
  'nothing',
  'AbortController',
  'CancelController',
  'EventTarget',
  '{ ...labels, outcome }',
  'Object.assign({}, labels, { outcome })',
  'Set entry',
  'InFlight entry',
] as const;

/** The per-request object of `mode`. */
function make(mode: string, n: number): unknown {
  const labels = { model: 'facial-expression', version: String(n & 1) };
  switch (mode) {
    case 'AbortController':
      return new AbortController().signal;
    case 'CancelController':
      return new CancelController();
    case 'EventTarget':
      return new EventTarget();
    case '{ ...labels, outcome }':
      return { ...labels, outcome: 'ok' };
    case 'Object.assign({}, labels, { outcome })':
      return Object.assign({}, labels, { outcome: 'ok' });
    default:
      return undefined;
  }
}

/** Server mode: the per-request object of `mode`, kept until the answer. */
function serve(mode: string): void {
  let n = 0;
  const set = new Set<http.ServerResponse>();
  const list = new InFlight<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const held = make(mode, n++);
    if (mode === 'Set entry') set.add(res);
    const entry = mode === 'InFlight entry' ? list.add(res) : undefined;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () =>
      setTimeout(() => {
        set.delete(res);
        if (entry) list.delete(entry);
        res.end(held ? 'held' : 'none');
      }, 2),
    );
  });
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ event: 'ready', url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

function measure(mode: string): Promise<{ requests: number; gc: GcCounts }> {
  const argv = [process.execPath, ...GC_TRACE_FLAGS, '--import', 'tsx', fileURLToPath(import.meta.url), '--serve', mode];
  const body = Buffer.alloc(89_000, 'a');
  const load = async (url: string, seconds: number): Promise<number> => (await httpLoad({ url, body }, 4, { seconds })).answered;
  return measureGc(argv, `the ${mode} server`, load, Number(values.seconds), Number(values.seconds));
}

if (values.serve) {
  serve(values.serve);
} else {
  const machine = `nproc ${os.availableParallelism()}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
  spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)]);
  console.log(`Machine: ${machine}.\nCommand: npx tsx bench/abortSignalGc.ts --seconds ${values.seconds}\n`);
  console.log('| made per request | requests | scavenges / 1000 requests | KB alive per scavenge | full collections / 1000 requests |');
  console.log('|---|---:|---:|---:|---:|');
  for (const mode of MODES) {
    const { requests, gc } = await measure(mode);
    const f = gcFigures(requests, gc);
    console.log(`| ${mode} | ${requests} | ${f.scavengesPer1000} | ${f.kbAlive} | ${f.fullPer1000} |`);
  }
}
