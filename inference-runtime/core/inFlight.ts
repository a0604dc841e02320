/**
 * Work in flight (responses being answered, calls waiting for a worker's reply) as a doubly linked list
 * rather than a Set or Map.
 *
 * V8 rebuilds a Set's or Map's hash table every few additions when entries keep coming and going (one per
 * request), and each table it leaves behind keeps a link to the table that replaced it. Once one of those
 * tables has lived long enough to reach the old generation, the link makes its successor survive every
 * young-generation collection until the next full one, and with it the entries it held: the objects of
 * finished requests were promoted at every collection, a chain of garbage that only full collections ended
 * (docs/benchmarks.md, "A chain of hash tables"). A node taken out of this list keeps no link to any other,
 * so nothing finished is held by anything.
 */
export class InFlightNode<T> {
  /** Neighbours while in the list; undefined once taken out. */
  prev: InFlightNode<T> | undefined;
  next: InFlightNode<T> | undefined;
  constructor(readonly value: T) {}
}

export class InFlight<T> {
  /** The sentinel: `head.next` is the oldest entry, `head.prev` the newest; itself when the list is empty. */
  private readonly head = new InFlightNode<T>(undefined as T);
  private count = 0;

  constructor() {
    this.head.prev = this.head;
    this.head.next = this.head;
  }

  get size(): number {
    return this.count;
  }

  /** Adds `value` as the newest entry; the node is its handle for `delete`. */
  add(value: T): InFlightNode<T> {
    const node = new InFlightNode(value);
    const last = this.head.prev!;
    node.prev = last;
    node.next = this.head;
    last.next = node;
    this.head.prev = node;
    this.count++;
    return node;
  }

  /** Takes `node` out of the list (again is a no-op) and clears its links. */
  delete(node: InFlightNode<T>): void {
    const { prev, next } = node;
    if (prev === undefined || next === undefined) return;
    prev.next = next;
    next.prev = prev;
    node.prev = undefined;
    node.next = undefined;
    this.count--;
  }

  /** The oldest node whose value matches, if any. */
  find(match: (value: T) => boolean): InFlightNode<T> | undefined {
    for (let n = this.head.next!; n !== this.head; n = n.next!) if (match(n.value)) return n;
    return undefined;
  }

  /** The values, oldest first, as they are now (entries may be taken out while the copy is walked). */
  values(): T[] {
    const out: T[] = [];
    for (let n = this.head.next!; n !== this.head; n = n.next!) out.push(n.value);
    return out;
  }

  /** Takes every entry out. */
  clear(): void {
    for (let n = this.head.next!; n !== this.head; ) {
      const next = n.next!;
      n.prev = undefined;
      n.next = undefined;
      n = next;
    }
    this.head.prev = this.head;
    this.head.next = this.head;
    this.count = 0;
  }
}
