import { expect } from 'chai';
import fc from 'fast-check';
import { InFlight, type InFlightNode } from '../../../../inference-runtime/core/inFlight.js';

describe('work in flight', () => {
  it('holds what was added and not yet deleted, oldest first, for any sequence of adds, deletes, finds and clears', () => {
    const step = fc.oneof(
      fc.record({ op: fc.constant('add' as const) }),
      fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }),
      fc.record({ op: fc.constant('find' as const), pick: fc.nat() }),
      fc.record({ op: fc.constant('clear' as const) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const list = new InFlight<number>();
        // The model: ids in order of addition, and every node ever handed out (deleting one twice is a no-op).
        let model: number[] = [];
        const nodes: InFlightNode<number>[] = [];
        for (const s of steps) {
          if (s.op === 'add') {
            nodes.push(list.add(nodes.length));
            model.push(nodes.length - 1);
          } else if (s.op === 'delete' && nodes.length > 0) {
            const node = nodes[s.pick % nodes.length]!;
            list.delete(node);
            model = model.filter((v) => v !== node.value);
            // A node taken out links to nothing.
            expect([node.prev, node.next]).to.deep.equal([undefined, undefined]);
          } else if (s.op === 'find' && nodes.length > 0) {
            const wanted = s.pick % nodes.length;
            expect(list.find((v) => v === wanted)?.value).to.equal(model.includes(wanted) ? wanted : undefined);
          } else if (s.op === 'clear') {
            list.clear();
            model = [];
          }
          expect(list.values()).to.deep.equal(model);
          expect(list.size).to.equal(model.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('lets entries be taken out while a copy of the values is walked', () => {
    const list = new InFlight<string>();
    const nodes = ['a', 'b', 'c'].map((v) => list.add(v));
    const seen: string[] = [];
    for (const v of list.values()) {
      seen.push(v);
      list.delete(nodes[seen.length - 1]!);
    }
    expect(seen).to.deep.equal(['a', 'b', 'c']);
    expect(list.size).to.equal(0);
  });
});
