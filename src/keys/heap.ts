/** A binary min-heap of (time, id) pairs: the resting keys ordered by when they wake. @module */

/**
 * Min-heap keyed by `at`. Entries may go stale (a key rested again, re-enabled or removed);
 * callers validate what they pop. Bound: every entry leaves when its time comes, so the heap
 * holds at most one entry per rest started within the longest rest (`disableMs` or the 1 h
 * back-off bound; a usage cap until its reset, up to a month, but a capped key is out of
 * rotation, so only requests already in flight can rest it again) — in practice a few per
 * resting key.
 */
export class WakeHeap {
  #at: number[] = [];
  #id: string[] = [];

  get size(): number {
    return this.#at.length;
  }

  push(at: number, id: string): void {
    this.#at.push(at);
    this.#id.push(id);
    let i = this.#at.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#at[parent] <= this.#at[i]) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  /** The earliest time, or undefined when empty. */
  peek(): number | undefined {
    return this.#at[0];
  }

  pop(): { at: number; id: string } | undefined {
    if (this.#at.length === 0) return undefined;
    const top = { at: this.#at[0], id: this.#id[0] };
    const lastAt = this.#at.pop()!;
    const lastId = this.#id.pop()!;
    if (this.#at.length > 0) {
      this.#at[0] = lastAt;
      this.#id[0] = lastId;
      this.#siftDown(0);
    }
    return top;
  }

  #siftDown(i: number): void {
    const n = this.#at.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#at[l] < this.#at[m]) m = l;
      if (r < n && this.#at[r] < this.#at[m]) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }

  #swap(a: number, b: number): void {
    [this.#at[a], this.#at[b]] = [this.#at[b], this.#at[a]];
    [this.#id[a], this.#id[b]] = [this.#id[b], this.#id[a]];
  }
}
