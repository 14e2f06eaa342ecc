/**
 * Typed records over unstorage: keys, client tokens, metadata and counters, each under its own
 * prefix; the names themselves are in key_names.ts, with every other record's.
 * @module
 */
import type { Storage } from "unstorage";
import type { KeyRecord } from "../keys/types.ts";
import { storedKeyProblem } from "../keys/parse.ts";
import type { TokenRecord } from "../auth/types.ts";
import type { CounterSink } from "./counters.ts";
import { Quarantine } from "./quarantine.ts";
import { counterSinkFor } from "./sinks.ts";
import { poolKeys, PREFIX } from "./key_names.ts";

/** How many writes go out at once (file-backed storage runs out of descriptors beyond a few hundred). */
const WRITE_CHUNK = 256;

/** The pool's view of its storage. */
export interface PoolStore {
  readonly storage: Storage;
  readonly counters: CounterSink;
  /** Where unreadable records go, and how many there are. */
  readonly quarantine: Quarantine;
  listKeys(provider: string): Promise<KeyRecord[]>;
  getKey(provider: string, id: string): Promise<KeyRecord | null>;
  putKeys(records: KeyRecord[]): Promise<void>;
  removeKeys(provider: string, ids: string[]): Promise<void>;
  listTokens(): Promise<TokenRecord[]>;
  getToken(id: string): Promise<TokenRecord | null>;
  putToken(record: TokenRecord): Promise<void>;
  removeToken(id: string): Promise<void>;
  getMeta<T>(name: string): Promise<T | null>;
  setMeta<T>(name: string, value: T): Promise<void>;
}

/** Runs `fn` over `items` in sequential chunks of parallel calls. */
async function inChunks<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += WRITE_CHUNK) {
    await Promise.all(items.slice(i, i + WRITE_CHUNK).map(fn));
  }
}

/**
 * Every record under `base`, read in batches (one MGET or `= ANY()` query each where the driver
 * can); unreadable ones are set aside, not skipped.
 */
async function readAll<T>(
  storage: Storage,
  quarantine: Quarantine,
  base: string,
  problem?: (record: Record<string, unknown>) => string | undefined,
): Promise<T[]> {
  const names = await storage.getKeys(base);
  const out: T[] = [];
  for (let i = 0; i < names.length; i += 1000) {
    out.push(...await quarantine.filter<T>(await storage.getItems(names.slice(i, i + 1000)), problem));
  }
  return out;
}

/** Wraps an unstorage `Storage` as a {@link PoolStore}. */
export function createStore(
  storage: Storage,
  counters: CounterSink = counterSinkFor(storage),
  quarantine: Quarantine = new Quarantine(storage, console.error),
): PoolStore {
  const one = async <T>(
    name: string,
    problem?: (record: Record<string, unknown>) => string | undefined,
  ): Promise<T | null> => {
    const value = await storage.getItem(name);
    return (await quarantine.admit(name, value, problem)) ? value as T : null;
  };
  return {
    storage,
    counters,
    quarantine,
    // Key records are checked too: a crafted one (an import, a hand edit) must not reach a request.
    listKeys: (provider) => readAll<KeyRecord>(storage, quarantine, poolKeys.keysOf(provider), storedKeyProblem),
    getKey: (provider, id) => one<KeyRecord>(poolKeys.key(provider, id), storedKeyProblem),
    // One setItems per chunk: one query on Postgres, one folder fsync per chunk on the filesystem.
    putKeys: async (records) => {
      for (let i = 0; i < records.length; i += WRITE_CHUNK) {
        await storage.setItems(
          records.slice(i, i + WRITE_CHUNK).map((r) => ({ key: poolKeys.key(r.provider, r.id), value: r })),
        );
      }
    },
    removeKeys: (provider, ids) => inChunks(ids, (id) => storage.removeItem(poolKeys.key(provider, id))),
    listTokens: () => readAll<TokenRecord>(storage, quarantine, PREFIX.tokens),
    getToken: (id) => one<TokenRecord>(poolKeys.token(id)),
    putToken: (record) => storage.setItem(poolKeys.token(record.id), record),
    removeToken: (id) => storage.removeItem(poolKeys.token(id)),
    getMeta: <T>(name: string) => storage.getItem<T>(poolKeys.meta(name)),
    setMeta: (name, value) => storage.setItem(poolKeys.meta(name), value as never),
  };
}
