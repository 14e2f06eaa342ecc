/**
 * A change feed through the shared store, so that several pool instances agree on key health
 * and admin changes within seconds without reading storage on the request path. Each change is
 * its own short-lived item (`events:<time>-<instance>-<n>`): writers never overwrite each other,
 * and readers list the few items of the last minute.
 *
 * Listing is the expensive part: a SCAN over the whole database on Redis and Upstash (one command
 * per 1,000 keys on Upstash, which bills per command; per 10 on the Redis driver). So each writer
 * also sets `events:version` to its event's unique name, after the event, and a poll first reads
 * that one item: while it has not moved for a minute, the poll is that single read. Unique names,
 * not a counter, so that no atomic increment is needed and a lost race between writers still
 * leaves a value no reader saw before. Listing goes on for a minute after each move, so that a
 * store whose listings lag behind its writes (Cloudflare KV) still shows every event.
 * @module
 */
import type { Storage } from "unstorage";
import { eventKey, feedVersionKey, PREFIX } from "./key_names.ts";

/**
 * What changed: keys of a provider, or client tokens, by id; `all` when too many to name. A
 * `cache` event is a clear of the response cache, of `provider` and `model` when given.
 */
export interface ChangeEvent {
  kind: "keys" | "tokens" | "cache";
  provider?: string;
  ids: string[];
  all?: boolean;
  model?: string;
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
  /** `events:version` as last read; a symbol before the first poll, which always lists. */
  #version: unknown = Symbol("unread");
  /** When the feed last moved (read a new version, or published); lists while within the window. */
  #movedAt = -Infinity;
  /** An event whose version write failed: written again by the next poll, before reading. */
  #unannounced: string | undefined;

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
    this.#movedAt = at;
    this.#unannounced = name;
    await this.#announce();
  }

  /** When this feed last moved: an event published here or a new version read (epoch ms). */
  get movedAt(): number {
    return this.#movedAt;
  }

  /** Sets the version to the latest event's name: after the event itself, so a reader finds it. */
  async #announce(): Promise<void> {
    const name = this.#unannounced;
    if (name === undefined) return;
    // A record like every other (an object): the store's checks and exports take nothing else.
    await this.#storage.setItem(feedVersionKey, { name });
    if (this.#unannounced === name) this.#unannounced = undefined;
  }

  /**
   * Events from other instances not seen before; also removes events past the window. One read
   * of `events:version` when the feed has not moved for a minute.
   */
  async poll(): Promise<ChangeEvent[]> {
    await this.#announce();
    const now = this.#now();
    const stored = await this.#storage.getItem<{ name?: unknown }>(feedVersionKey);
    const version = stored && typeof stored === "object" ? stored.name : undefined;
    if (version !== this.#version) {
      this.#version = version;
      this.#movedAt = now;
    }
    for (const [name, at] of this.#seen) if (at < now - 2 * WINDOW_MS) this.#seen.delete(name);
    if (now - this.#movedAt > WINDOW_MS) return [];
    const names = await this.#storage.getKeys(PREFIX.events);
    const fresh: string[] = [];
    const stale: string[] = [];
    for (const name of names) {
      if (name === feedVersionKey) continue;
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
        events.push({
          kind: e.kind,
          provider: e.provider,
          ids: e.ids,
          ...(e.all ? { all: true } : {}),
          ...(e.model === undefined ? {} : { model: e.model }),
        });
      }
    }
    // Backends without TTL (filesystem) keep items until someone deletes them.
    await Promise.all(stale.map((name) => this.#storage.removeItem(name).catch(() => {})));
    return events;
  }
}
