/**
 * All providers' key pools plus their persistence: loading at start, adding and removing
 * (awaited: admin operations), and writing state changes made on the request path in batches.
 * @module
 */
import { type ChangeFeed, MAX_EVENT_IDS } from "../store/feed.ts";
import type { PoolStore } from "../store/store.ts";
import { KeyPool } from "./key_pool.ts";
import type { ParsedKey } from "./parse.ts";
import { keyId } from "./secrets.ts";
import type { HealthRules, KeyRecord } from "./types.ts";

/** Keys built and stored per step of {@link KeyRegistry.add}. */
const ADD_CHUNK = 2000;

/**
 * A string that does not share memory with a larger one: a key sliced from a 64 KB chunk of an
 * import (or from a 7 MB ollama.txt) would otherwise keep all of it alive as long as the key.
 */
function ownCopy(s: string): string {
  return s.length < 13 ? s : JSON.parse(JSON.stringify(s)) as string;
}

/** What adding keys did. */
export interface AddResult {
  added: number;
  existing: number;
  /** Ids of the keys, in input order (new and existing). */
  ids: string[];
}

/**
 * Keys added a step at a time (an import read as it arrives): each step is stored before
 * {@link add} resolves, and its keys serve from then on; {@link finish} tells other instances.
 */
export interface KeyImporter {
  /** Adds a step's keys not yet in the pool; pushes every key's id to `ids` when given. */
  add(keys: readonly ParsedKey[], ids?: string[]): Promise<void>;
  /** Publishes what was added to other instances (once, also after a failed step). */
  finish(): Promise<void>;
  readonly added: number;
  /** Keys already in the pool, or seen earlier in the same import. */
  readonly existing: number;
}

/** The pools of every provider. */
export class KeyRegistry {
  #pools = new Map<string, KeyPool>();
  /** Keys changed since the last write; at most one entry per key. */
  #dirty = new Map<string, KeyRecord>();
  #store: PoolStore;
  #feed: ChangeFeed;
  #now: () => number;
  #flushing: Promise<void> = Promise.resolve();
  /** Told the ids of keys just added (for reading their model lists in the background). */
  onAdded?: (provider: string, ids: string[]) => void;
  /** Told when an import (one {@link add} or {@link importer}) ends, with how many keys it added. */
  onImported?: (provider: string, added: number) => void;

  constructor(providerIds: string[], store: PoolStore, feed: ChangeFeed, rules: HealthRules, now: () => number) {
    this.#store = store;
    this.#feed = feed;
    this.#now = now;
    const mark = (rec: KeyRecord): void => void this.#dirty.set(`${rec.provider}:${rec.id}`, rec);
    for (const id of providerIds) this.#pools.set(id, new KeyPool(id, rules, now, mark));
  }

  /** The pool of a provider (every configured provider has one). */
  pool(provider: string): KeyPool {
    const p = this.#pools.get(provider);
    if (!p) throw new Error(`[ollama-api-pool] unknown provider "${provider}"`);
    return p;
  }

  async load(): Promise<void> {
    for (const [provider, pool] of this.#pools) {
      const records = await this.#store.listKeys(provider);
      records.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
      for (const rec of records) pool.put(rec);
    }
  }

  /**
   * Adds keys not yet in the pool; duplicates (also within the input) count as existing. Works in
   * steps of {@link ADD_CHUNK}, each stored before the next is built.
   */
  async add(provider: string, keys: ParsedKey[], expiresAt?: number): Promise<AddResult> {
    const importer = this.importer(provider, expiresAt);
    const ids: string[] = [];
    try {
      for (let start = 0; start < keys.length; start += ADD_CHUNK) {
        await importer.add(keys.slice(start, start + ADD_CHUNK), ids);
      }
    } catch (err) {
      await importer.finish().catch(() => {}); // the steps stored before the failure still count
      throw err;
    }
    await importer.finish();
    return { added: importer.added, existing: importer.existing, ids };
  }

  /** Starts adding keys to `provider`'s pool step by step (see {@link KeyImporter}). */
  importer(provider: string, expiresAt?: number): KeyImporter {
    const pool = this.pool(provider);
    const now = this.#now();
    // The ids for other instances, while few: past the feed's bound one event says "reload all".
    const announce: string[] = [];
    let added = 0;
    let existing = 0;
    let finished = false;
    return {
      get added() {
        return added;
      },
      get existing() {
        return existing;
      },
      add: async (keys, ids) => {
        const records: KeyRecord[] = [];
        for (const k of keys) {
          const id = keyId(provider, k.secret);
          ids?.push(id);
          if (pool.has(id)) {
            existing++;
            // An import may re-tier keys it already holds; written with the next state flush.
            if (k.priority !== undefined || k.weight !== undefined) pool.setPlacement(id, k);
            continue;
          }
          const rec: KeyRecord = {
            id,
            provider,
            secret: ownCopy(k.secret),
            state: "active",
            failures: 0,
            createdAt: now,
          };
          if (k.label) rec.label = ownCopy(k.label);
          if (k.priority) rec.priority = k.priority;
          if (k.weight !== undefined && k.weight !== 1) rec.weight = k.weight;
          if (expiresAt) rec.expiresAt = expiresAt;
          // Put first so that a duplicate later in the same step is seen as existing.
          pool.put(rec);
          records.push(rec);
        }
        try {
          await this.#store.putKeys(records);
        } catch (err) {
          for (const r of records) pool.remove(r.id); // what is not stored is not in the pool either
          throw err;
        }
        added += records.length;
        for (const r of records) if (announce.length <= MAX_EVENT_IDS) announce.push(r.id);
        if (records.length) this.onAdded?.(provider, records.map((r) => r.id));
      },
      finish: async () => {
        if (finished || added === 0) return;
        finished = true;
        this.onImported?.(provider, added);
        await this.#feed.publish(
          added > MAX_EVENT_IDS
            ? { kind: "keys", provider, ids: [], all: true }
            : { kind: "keys", provider, ids: announce },
        );
      },
    };
  }

  /** Removes keys by id; returns the ids that existed. */
  async remove(provider: string, ids: string[]): Promise<string[]> {
    const pool = this.pool(provider);
    const found = ids.filter((id) => pool.has(id));
    // An in-flight state flush must not write a removed key back after its removal.
    await this.#flushing.catch(() => {});
    await this.#store.removeKeys(provider, found);
    for (const id of found) {
      pool.remove(id);
      this.#dirty.delete(`${provider}:${id}`);
    }
    await this.#feed.publish({ kind: "keys", provider, ids: found });
    return found;
  }

  /** The id of a key given as id or as the secret itself (old clients address keys by value). */
  // deno-lint-ignore require-await -- async so an unknown provider rejects like the other lookups
  async resolve(provider: string, idOrSecret: string): Promise<string | undefined> {
    const pool = this.pool(provider);
    if (pool.has(idOrSecret)) return idOrSecret;
    const id = keyId(provider, idOrSecret);
    return pool.has(id) ? id : undefined;
  }

  /** Whether state changes wait for the next `flush()`. */
  get pending(): boolean {
    return this.#dirty.size > 0;
  }

  /** Writes the state changes collected since the last call. */
  flush(): Promise<void> {
    if (this.#dirty.size === 0) return Promise.resolve();
    const batch = [...this.#dirty.values()];
    this.#dirty.clear();
    this.#flushing = this.#flushing.catch(() => {}).then(() => this.#write(batch));
    return this.#flushing;
  }

  /**
   * Takes what another instance changed: re-reads those records (gone = removed). A key with an
   * unwritten local change keeps it: that change is newer and will be published in turn.
   */
  async apply(provider: string, ids: string[], all = false): Promise<void> {
    const pool = this.#pools.get(provider);
    if (!pool) return;
    if (all) return this.#reload(provider, pool);
    for (const id of ids) {
      if (this.#dirty.has(`${provider}:${id}`)) continue;
      const rec = await this.#store.getKey(provider, id);
      if (rec) pool.put(rec);
      else pool.remove(id);
    }
  }

  /** Replaces a provider's records with the stored ones (after a change too large to list). */
  async #reload(provider: string, pool: KeyPool): Promise<void> {
    const stored = await this.#store.listKeys(provider);
    const keep = new Set<string>();
    for (const rec of stored) {
      keep.add(rec.id);
      if (!this.#dirty.has(`${provider}:${rec.id}`)) pool.put(rec);
    }
    for (const rec of [...pool.values()]) if (!keep.has(rec.id)) pool.remove(rec.id);
  }

  async #write(batch: KeyRecord[]): Promise<void> {
    try {
      await this.#store.putKeys(batch.map((r) => ({ ...r })));
      const byProvider = new Map<string, string[]>();
      for (const r of batch) byProvider.set(r.provider, [...(byProvider.get(r.provider) ?? []), r.id]);
      for (const [provider, ids] of byProvider) await this.#feed.publish({ kind: "keys", provider, ids });
    } catch (err) {
      for (const rec of batch) {
        const k = `${rec.provider}:${rec.id}`;
        if (!this.#dirty.has(k) && this.#pools.get(rec.provider)?.has(rec.id)) this.#dirty.set(k, rec);
      }
      throw err;
    }
  }
}
