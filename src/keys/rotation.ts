/**
 * The ready keys of one priority tier and the order they take turns in. Equal weights (the
 * common case) rotate round-robin over an array: O(1) per pick. As soon as one key of the tier
 * has another weight, a stride scheduler takes over (each key advances a virtual clock by
 * 1/weight when picked; the lowest clock goes next), which interleaves keys smoothly — weights
 * 3:1 give `A A B A A A B …`, never a burst of three — at O(log n) per pick.
 * @module
 */
import type { KeyRecord } from "./types.ts";

/**
 * Virtual time one turn of a weight-1 key costs: the least common multiple of 1..16, so the
 * strides of those weights are whole numbers and equal passes are exactly equal (with 1/weight,
 * rounding let a 3:1 tier run the heavy key four times in a row). At this size the clock stays
 * exact for about 10^10 picks of one tier.
 */
const TURN = 720_720;

/** What the caller says about a candidate: take it, or pass over it this time. */
export type Accept = (rec: KeyRecord) => boolean;

interface Entry {
  rec: KeyRecord;
  /** Virtual time of the key's next turn. */
  pass: number;
  /** Tie-break: the order keys joined, so equal passes rotate fairly. */
  seq: number;
  pos: number;
}

/** Keys of one tier that may be picked. */
export class Rotation {
  /** Every ready key, for O(1) membership and round-robin; `#slot` maps id -> index. */
  #ready: KeyRecord[] = [];
  #slot = new Map<string, number>();
  #cursor = 0;
  /** Keys whose weight is not 1; while > 0 the stride heap decides the order. */
  #weighted = 0;
  #heap: Entry[] | undefined;
  #entries = new Map<string, Entry>();
  #clock = 0;
  #seq = 0;
  /** Bumped whenever the set of keys changes, so callers can cache what they learnt about it. */
  version = 0;

  get size(): number {
    return this.#ready.length;
  }

  has(id: string): boolean {
    return this.#slot.has(id);
  }

  add(rec: KeyRecord): void {
    if (this.#slot.has(rec.id)) return;
    this.version++;
    this.#slot.set(rec.id, this.#ready.length);
    this.#ready.push(rec);
    if (weightOf(rec) !== 1) this.#weighted++;
    if (this.#heap) this.#heapAdd(rec);
    else if (this.#weighted > 0) this.#buildHeap();
  }

  /** Swap-remove: O(1), plus O(log n) in weighted mode. */
  remove(id: string): boolean {
    const i = this.#slot.get(id);
    if (i === undefined) return false;
    this.version++;
    const rec = this.#ready[i];
    const last = this.#ready.pop()!;
    if (last.id !== id) {
      this.#ready[i] = last;
      this.#slot.set(last.id, i);
    }
    this.#slot.delete(id);
    if (weightOf(rec) !== 1) this.#weighted--;
    if (this.#heap) {
      this.#heapRemove(id);
      if (this.#weighted === 0) {
        this.#heap = undefined;
        this.#entries.clear();
      }
    }
    return true;
  }

  /**
   * The next key `accept` takes, at most `limit` candidates looked at. Passed-over keys keep
   * their turn. Keys may be removed by `accept` (an expired key): they do not count toward the
   * limit, and the loop re-reads the size.
   */
  next(accept: Accept, limit: number): KeyRecord | undefined {
    return this.#heap ? this.#nextWeighted(accept, limit) : this.#nextRoundRobin(accept, limit);
  }

  #nextRoundRobin(accept: Accept, limit: number): KeyRecord | undefined {
    for (let tries = 0; tries < limit && this.#ready.length > 0; tries++) {
      const rec = this.#ready[this.#cursor++ % this.#ready.length];
      if (this.#cursor >= 0x3fffffff) this.#cursor = 0;
      if (accept(rec)) return rec;
      if (!this.#slot.has(rec.id)) tries--; // removed (expired): costs no turn of the others
    }
    return undefined;
  }

  #nextWeighted(accept: Accept, limit: number): KeyRecord | undefined {
    const heap = this.#heap!;
    const passed: Entry[] = [];
    let found: Entry | undefined;
    for (let tries = 0; tries < limit && heap.length > 0; tries++) {
      const top = this.#pop();
      if (!this.#entries.has(top.rec.id)) continue; // removed by accept() on an earlier turn
      if (accept(top.rec)) {
        found = top;
        break;
      }
      if (this.#entries.has(top.rec.id)) passed.push(top);
      else tries--;
    }
    for (const e of passed) this.#push(e);
    if (!found) return undefined;
    if (!this.#entries.has(found.rec.id)) return found.rec;
    this.#clock = found.pass;
    found.pass += TURN / weightOf(found.rec);
    this.#push(found);
    return found.rec;
  }

  #buildHeap(): void {
    this.#heap = [];
    this.#entries.clear();
    for (const rec of this.#ready) this.#heapAdd(rec);
  }

  #heapAdd(rec: KeyRecord): void {
    // A key joining now starts at the current virtual time: no catch-up burst for keys that rested.
    const e: Entry = { rec, pass: this.#clock, seq: this.#seq++, pos: 0 };
    this.#entries.set(rec.id, e);
    this.#push(e);
  }

  #heapRemove(id: string): void {
    const e = this.#entries.get(id);
    if (!e) return;
    this.#entries.delete(id);
    const heap = this.#heap!;
    if (e.pos >= heap.length || heap[e.pos] !== e) return; // popped and held by next() right now
    const last = heap.pop()!;
    if (last !== e) {
      heap[e.pos] = last;
      last.pos = e.pos;
      this.#down(last.pos);
      this.#up(last.pos);
    }
  }

  #push(e: Entry): void {
    const heap = this.#heap!;
    e.pos = heap.length;
    heap.push(e);
    this.#up(e.pos);
  }

  #pop(): Entry {
    const heap = this.#heap!;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      last.pos = 0;
      this.#down(0);
    }
    return top;
  }

  #less(a: Entry, b: Entry): boolean {
    return a.pass < b.pass || (a.pass === b.pass && a.seq < b.seq);
  }

  #up(i: number): void {
    const heap = this.#heap!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(heap[i], heap[p])) break;
      this.#swap(i, p);
      i = p;
    }
  }

  #down(i: number): void {
    const heap = this.#heap!;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && this.#less(heap[l], heap[m])) m = l;
      if (r < heap.length && this.#less(heap[r], heap[m])) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }

  #swap(a: number, b: number): void {
    const heap = this.#heap!;
    [heap[a], heap[b]] = [heap[b], heap[a]];
    heap[a].pos = a;
    heap[b].pos = b;
  }
}

/** A key's weight; 1 unless set. */
export function weightOf(rec: KeyRecord): number {
  return rec.weight ?? 1;
}
