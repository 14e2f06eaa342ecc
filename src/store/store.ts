/**
 * Typed records over unstorage: keys, client tokens, metadata and counters, each under its own
 * prefix. The only module that knows storage key names.
 * @module
 */
import type { Storage } from "unstorage";
import type { KeyRecord } from "../keys/types.ts";
import type { TokenRecord } from "../auth/types.ts";
import { type CounterSink, kvCounterSink } from "./counters.ts";

/** How many writes go out at once (file-backed storage runs out of descriptors beyond a few hundred). */
const WRITE_CHUNK = 256;

/** The pool's view of its storage. */
export interface PoolStore {
  readonly storage: Storage;
  readonly counters: CounterSink;
  listKeys(provider: string): Promise<KeyRecord[]>;
  putKeys(records: KeyRecord[]): Promise<void>;
  removeKeys(provider: string, ids: string[]): Promise<void>;
  listTokens(): Promise<TokenRecord[]>;
  putToken(record: TokenRecord): Promise<void>;
  removeToken(id: string): Promise<void>;
  getMeta<T>(name: string): Promise<T | null>;
  setMeta<T>(name: string, value: T): Promise<void>;
}

const keyPath = (provider: string, id: string): string => `keys:${provider}:${id}`;

/** Runs `fn` over `items` in sequential chunks of parallel calls. */
async function inChunks<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += WRITE_CHUNK) {
    await Promise.all(items.slice(i, i + WRITE_CHUNK).map(fn));
  }
}

async function readAll<T>(storage: Storage, base: string): Promise<T[]> {
  const names = await storage.getKeys(base);
  const out: T[] = [];
  await inChunks(names, async (name) => {
    const v = await storage.getItem<T>(name);
    if (v && typeof v === "object") out.push(v);
  });
  return out;
}

/** Wraps an unstorage `Storage` as a {@link PoolStore}. */
export function createStore(storage: Storage, counters: CounterSink = kvCounterSink(storage)): PoolStore {
  return {
    storage,
    counters,
    listKeys: (provider) => readAll<KeyRecord>(storage, `keys:${provider}`),
    putKeys: (records) => inChunks(records, (r) => storage.setItem(keyPath(r.provider, r.id), r)),
    removeKeys: (provider, ids) => inChunks(ids, (id) => storage.removeItem(keyPath(provider, id))),
    listTokens: () => readAll<TokenRecord>(storage, "tokens"),
    putToken: (record) => storage.setItem(`tokens:${record.id}`, record),
    removeToken: (id) => storage.removeItem(`tokens:${id}`),
    getMeta: <T>(name: string) => storage.getItem<T>(`meta:${name}`),
    setMeta: (name, value) => storage.setItem(`meta:${name}`, value as never),
  };
}
