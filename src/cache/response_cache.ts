/**
 * An optional cache of non-stream upstream answers, keyed by provider, route and the normalized
 * request body. Bounded by entries and bytes (least recently used goes first) and by a TTL;
 * with `shared`, entries are also written to the store so other instances can answer from them.
 * @module
 */
import type { Storage } from "unstorage";
import { sha256HexSync } from "../auth/sha256.ts";
import type { ChangeFeed } from "../store/feed.ts";
import { cacheKey, PREFIX } from "../store/key_names.ts";

/** Response cache settings. */
export interface CacheOptions {
  /** @default false */
  enabled?: boolean;
  /** @default 300000 (5 minutes) */
  ttlMs?: number;
  /** @default 1000 */
  maxEntries?: number;
  /** Total bytes of cached bodies in memory. @default 52428800 (50 MiB) */
  maxBytes?: number;
  /** Also keep entries in the shared store. @default false */
  shared?: boolean;
}

interface Entry {
  status: number;
  headers: Array<[string, string]>;
  body: Uint8Array<ArrayBuffer>;
  expires: number;
  provider: string;
  model?: string;
}

interface StoredEntry extends Omit<Entry, "body"> {
  body: string; // base64
}

/** Which entries a clear removes: all, or those of a provider and/or whose model contains `model`. */
export interface CacheFilter {
  provider?: string;
  model?: string;
}

const matches = (e: { provider?: unknown; model?: unknown }, f: CacheFilter): boolean =>
  (!f.provider || e.provider === f.provider) && (!f.model || String(e.model ?? "").includes(f.model));

/**
 * Stored entries listed, read (by a filtered clear) and removed per round: file-backed storage
 * runs out of descriptors with many more removals at once.
 */
const CLEAR_BATCH = 256;
/** Shortest time between two sweeps of the stored entries (see {@link ResponseCache.sweepIfDue}). */
const MIN_SWEEP_MS = 60_000;

/** JSON with object keys sorted, so that key order does not split the cache. */
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${
      Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`).join(",")
    }}`;
  }
  return JSON.stringify(v) ?? "null";
}

const toBase64 = (b: Uint8Array): string => {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
};
const fromBase64 = (s: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** The cache. Only successful, non-streamed answers go in. */
export class ResponseCache {
  readonly options: Required<CacheOptions>;
  #entries = new Map<string, Entry>();
  #bytes = 0;
  #hits = 0;
  #misses = 0;
  #storage: Storage;
  #now: () => number;
  #feed?: ChangeFeed;
  #lastSweep = -Infinity;

  /** With `feed`, a clear reaches the other instances' memory too (they read it on their next sync). */
  constructor(options: CacheOptions, storage: Storage, now: () => number, feed?: ChangeFeed) {
    this.options = {
      enabled: false,
      ttlMs: 300_000,
      maxEntries: 1000,
      maxBytes: 50 * 1024 * 1024,
      shared: false,
      ...options,
    };
    this.#storage = storage;
    this.#now = now;
    this.#feed = feed;
  }

  /** The cache key of a request. */
  key(provider: string, path: string, body: string | undefined): string {
    let normalized = body ?? "";
    try {
      if (body) normalized = stable(JSON.parse(body));
    } catch { /* not JSON: the bytes themselves */ }
    return sha256HexSync(`${provider}\n${path}\n${normalized}`);
  }

  async get(key: string): Promise<Response | undefined> {
    let e = this.#entries.get(key);
    if (e && e.expires <= this.#now()) {
      this.#drop(key, e, true);
      e = undefined;
    }
    if (!e && this.options.shared) {
      const stored = await this.#storage.getItem<StoredEntry>(cacheKey(key)).catch(() => null);
      if (stored && stored.expires > this.#now()) {
        e = { ...stored, body: fromBase64(stored.body) };
        this.#put(key, e);
      } else if (stored) this.#unstore(key); // expired: not every store expires items itself
    }
    if (!e) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    this.#entries.delete(key); // re-insert: most recently used last
    this.#entries.set(key, e);
    const headers = new Headers(e.headers);
    headers.set("x-cache", "HIT");
    return new Response(e.body, { status: e.status, headers });
  }

  /** Stores an answer; bodies over a tenth of the byte budget are not kept. */
  async set(
    key: string,
    res: { status: number; headers: Headers; body: Uint8Array<ArrayBuffer> },
    provider: string,
    model?: string,
  ): Promise<void> {
    if (res.body.byteLength > this.options.maxBytes / 10) return;
    const headers = [...res.headers].filter(([k]) => k !== "x-cache");
    const e: Entry = {
      status: res.status,
      headers,
      body: res.body,
      expires: this.#now() + this.options.ttlMs,
      provider,
      model,
    };
    this.#put(key, e);
    if (this.options.shared) {
      const stored: StoredEntry = { ...e, body: toBase64(e.body) };
      await this.#storage.setItem(cacheKey(key), stored, { ttl: Math.ceil(this.options.ttlMs / 1000) }).catch(() => {});
    }
  }

  /**
   * Removes the entries `filter` names here, in the store (when shared) and, through the change
   * feed, from the other instances' memory. Returns how many distinct answers were removed here
   * and from the store (one kept in both counts once).
   */
  async clear(filter: CacheFilter = {}): Promise<number> {
    const removed = new Set(this.forget(filter));
    if (this.options.shared) {
      const filtered = filter.provider || filter.model;
      const stored = await this.#removeStored(filtered ? (e) => e !== null && matches(e, filter) : undefined);
      for (const hash of stored) removed.add(hash);
    }
    if (this.options.enabled) await this.#feed?.publish({ kind: "cache", ids: [], all: true, ...filter });
    return removed.size;
  }

  /** Removes the entries `filter` names from this instance's memory only: their keys. */
  forget(filter: CacheFilter = {}): string[] {
    const removed: string[] = [];
    for (const [k, e] of [...this.#entries]) {
      if (!matches(e, filter)) continue;
      this.#drop(k, e);
      removed.push(k);
    }
    return removed;
  }

  /**
   * Removes the stored entries whose time is over, at most once per `ttlMs` (a minute at least);
   * undefined when not due. Memory and file storage ignore the TTL an entry is written with, so
   * without this every shared answer would stay in them forever. Bound: what is stored is what
   * all instances cached within one `ttlMs` plus one sweep interval.
   */
  sweepIfDue(): Promise<void> | undefined {
    const now = this.#now();
    if (!this.options.shared || now - this.#lastSweep < Math.max(this.options.ttlMs, MIN_SWEEP_MS)) return undefined;
    this.#lastSweep = now;
    return this.#removeStored((e) => !(typeof e?.expires === "number" && e.expires > now)).then(() => {});
  }

  /**
   * Removes stored entries one by one (`storage.clear("cache")` removes nothing: unstorage clears
   * only the mounts below the prefix, and the pool's storage has one mount, at the root): all of
   * them, or those `which` picks. Returns their hashes.
   */
  async #removeStored(which?: (e: StoredEntry | null) => boolean): Promise<string[]> {
    const names = await this.#storage.getKeys(PREFIX.cache);
    const hashes: string[] = [];
    for (let i = 0; i < names.length; i += CLEAR_BATCH) {
      let batch = names.slice(i, i + CLEAR_BATCH);
      if (which) {
        const items = await this.#storage.getItems<StoredEntry | null>(batch);
        batch = items.filter((it) => which(typeof it.value === "object" ? it.value : null)).map((it) => it.key);
      }
      await Promise.all(batch.map((name) => this.#storage.removeItem(name)));
      hashes.push(...batch.map((name) => name.slice(PREFIX.cache.length + 1)));
    }
    return hashes;
  }

  stats(): Record<string, unknown> {
    const lookups = this.#hits + this.#misses;
    return {
      enabled: this.options.enabled,
      shared: this.options.shared,
      entries: this.#entries.size,
      bytes: this.#bytes,
      maxEntries: this.options.maxEntries,
      maxBytes: this.options.maxBytes,
      ttlMs: this.options.ttlMs,
      hits: this.#hits,
      misses: this.#misses,
      hitRate: lookups ? Math.round((this.#hits / lookups) * 10_000) / 100 : 0,
    };
  }

  #put(key: string, e: Entry): void {
    const old = this.#entries.get(key);
    if (old) this.#drop(key, old);
    this.#entries.set(key, e);
    this.#bytes += e.body.byteLength;
    for (const [k, victim] of this.#entries) {
      if (this.#entries.size <= this.options.maxEntries && this.#bytes <= this.options.maxBytes) break;
      this.#drop(k, victim, true);
    }
  }

  /**
   * Forgets an entry; `unstore`: in the shared store too. An entry that leaves this cache leaves
   * the store, since files and memory never expire items: the store then holds at most
   * `maxEntries` per instance, whatever clients send (a miss elsewhere is all it costs).
   */
  #drop(key: string, e: Entry, unstore = false): void {
    this.#entries.delete(key);
    this.#bytes -= e.body.byteLength;
    if (unstore) this.#unstore(key);
  }

  #unstore(key: string): void {
    if (this.options.shared) this.#storage.removeItem(cacheKey(key)).catch(() => {});
  }
}
