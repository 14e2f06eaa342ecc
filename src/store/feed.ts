/**
 * A change feed through the shared store, so that several pool instances agree on key health
 * and admin changes within seconds without reading storage on the request path. Each change is
 * its own short-lived item (`events:<time>-<instance>-<n>`): writers never overwrite each other,
 * and readers poll the few items of the last minute.
 * @module
 */
import type { Storage } from "unstorage";
import { eventKey, PREFIX } from "./key_names.ts";

/** What changed: keys of a provider, or client tokens, by id; `all` when too many to name. */
export interface ChangeEvent {
  kind: "keys" | "tokens";
  provider?: string;
  ids: string[];
  all?: boolean;
}

/** Above this many ids an event says "reload all" instead (a 100,000-key import is one event). */
export const MAX_EVENT_IDS = 500;

interface StoredEvent extends ChangeEvent {
  at: number;
  from: string;
}

/** How long an event is kept for slower pollers; also bounds the memory of seen events. */
const WINDOW_MS = 60_000;

/** Publishes this instance's changes and reads the others'. */
export class ChangeFeed {
  readonly instance: string;
  #storage: Storage;
  #now: () => number;
  #seq = 0;
  /** Event names already handled, with their time, for the window. */
  #seen = new Map<string, number>();

  constructor(storage: Storage, now: () => number, instance: string = crypto.randomUUID().slice(0, 8)) {
    this.#storage = storage;
    this.#now = now;
    this.instance = instance;
  }

  async publish(event: ChangeEvent): Promise<void> {
    if (event.ids.length === 0 && !event.all) return;
    if (event.ids.length > MAX_EVENT_IDS) event = { ...event, ids: [], all: true };
    const at = this.#now();
    const name = eventKey(`${String(at).padStart(15, "0")}-${this.instance}-${this.#seq++}`);
    this.#seen.set(name, at);
    const stored: StoredEvent = { ...event, at, from: this.instance };
    await this.#storage.setItem(name, stored, { ttl: Math.ceil((2 * WINDOW_MS) / 1000) });
  }

  /** Events from other instances not seen before; also removes events past the window. */
  async poll(): Promise<ChangeEvent[]> {
    const now = this.#now();
    const names = await this.#storage.getKeys(PREFIX.events);
    const fresh: string[] = [];
    const stale: string[] = [];
    for (const name of names) {
      const at = Number(/events:(\d+)-/.exec(name)?.[1] ?? 0);
      if (at < now - 2 * WINDOW_MS) stale.push(name);
      else if (!this.#seen.has(name)) fresh.push(name);
    }
    fresh.sort();
    const events: ChangeEvent[] = [];
    for (const name of fresh) {
      const e = await this.#storage.getItem<StoredEvent>(name);
      this.#seen.set(name, now);
      if (e && e.from !== this.instance) {
        events.push({ kind: e.kind, provider: e.provider, ids: e.ids, ...(e.all ? { all: true } : {}) });
      }
    }
    // Backends without TTL (filesystem) keep items until someone deletes them.
    await Promise.all(stale.map((name) => this.#storage.removeItem(name).catch(() => {})));
    for (const [name, at] of this.#seen) if (at < now - 2 * WINDOW_MS) this.#seen.delete(name);
    return events;
  }
}
