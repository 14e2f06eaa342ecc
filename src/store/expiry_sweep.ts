/**
 * Removal of stored records past their own expiry, for the backends that have no TTL. Memory and
 * file storage ignore unstorage's `ttl`, so a record written with one would stay forever there;
 * writers of short-lived records call {@link ExpirySweep.maybe} after a write, and at most once per
 * interval the records under their prefix whose time is over are removed. Where the store has
 * TTLs the sweep finds nothing left to do.
 * @module
 */
import type { Storage } from "unstorage";

/** How often a write may also sweep (the records alive are those of one lifetime plus this). */
export const SWEEP_EVERY_MS = 10 * 60_000;
/** Records read and removed per round of a sweep (file storage runs out of descriptors beyond a few hundred). */
const SWEEP_BATCH = 256;

/** Sweeps the records under one prefix; `expiresOf` reads a record's expiry (epoch ms). */
export class ExpirySweep<T> {
  #storage: Storage;
  #prefix: string;
  #expiresOf: (value: T) => unknown;
  #now: () => number;
  #lastSweep = -Infinity;

  constructor(storage: Storage, prefix: string, expiresOf: (value: T) => unknown, now: () => number) {
    this.#storage = storage;
    this.#prefix = prefix;
    this.#expiresOf = expiresOf;
    this.#now = now;
  }

  /** Sweeps when the last sweep is an interval old. Best effort: a failed sweep is tried at a later write. */
  async maybe(): Promise<void> {
    if (this.#now() - this.#lastSweep >= SWEEP_EVERY_MS) await this.sweep().catch(() => 0);
  }

  /** Removes the records whose expiry is over (or unreadable); how many it removed. */
  async sweep(): Promise<number> {
    const now = this.#now();
    this.#lastSweep = now;
    const names = await this.#storage.getKeys(this.#prefix);
    let removed = 0;
    for (let i = 0; i < names.length; i += SWEEP_BATCH) {
      const items = await this.#storage.getItems(names.slice(i, i + SWEEP_BATCH));
      const over = items.filter(({ value }) => {
        const expires = value === null || typeof value !== "object" ? undefined : this.#expiresOf(value as T);
        return !(typeof expires === "number" && expires > now);
      });
      await Promise.all(over.map(({ key }) => this.#storage.removeItem(key)));
      removed += over.length;
    }
    return removed;
  }
}
