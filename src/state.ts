/**
 * The pool's runtime state: storage, key pools, tokens, statistics and the admin credential,
 * loaded once on the first request, and the batched flush that persists what requests change.
 * @module
 */
import { type AdminCredential, resolveAdmin } from "./auth/admin.ts";
import { TokenRegistry } from "./auth/tokens.ts";
import { KeyRegistry } from "./keys/registry.ts";
import type { ResolvedOptions } from "./options.ts";
import type { Provider } from "./providers/types.ts";
import { StatsRecorder } from "./stats/recorder.ts";
import { createStore, type PoolStore } from "./store/store.ts";

/** Workers-style execution context: work that may outlive the response. */
export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
}

/** Everything routes need. */
export interface PoolState {
  readonly options: ResolvedOptions;
  readonly store: PoolStore;
  readonly stats: StatsRecorder;
  readonly tokens: TokenRegistry;
  readonly keys: KeyRegistry;
  readonly providers: Map<string, Provider>;
  /** Resolves once storage is loaded; cheap after the first call. */
  ready(): Promise<void>;
  admin(): AdminCredential;
  /** Starts a flush if the interval has passed; hands it to `ctx.waitUntil` when there is one. */
  maybeFlush(ctx?: ExecutionContextLike): void;
  /** Writes every pending counter and key-state change now. */
  flush(): Promise<void>;
}

/** Builds the state; nothing is read from storage until `ready()`. */
export function createState(options: ResolvedOptions): PoolState {
  const store = createStore(options.storage);
  const ids = options.providers.map((p) => p.id);
  const keys = new KeyRegistry(ids, store, options.failover, options.now);
  const tokens = new TokenRegistry(store, options.now);
  const stats = new StatsRecorder(store.counters, options.now);
  let admin: AdminCredential | undefined;
  let loading: Promise<void> | undefined;
  let lastFlush = options.now();

  const load = async (): Promise<void> => {
    admin = await resolveAdmin(store, options.auth.adminToken, options.auth.onAdminTokenGenerated ?? ((token) => {
      options.logger.warn(`[ollama-api-pool] no ADMIN_TOKEN was set; generated one (shown only this once): ${token}`);
    }));
    await Promise.all([keys.load(), tokens.load()]);
  };

  const flush = async (): Promise<void> => {
    lastFlush = options.now();
    const results = await Promise.allSettled([stats.flush(), keys.flush()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  };

  return {
    options, store, stats, tokens, keys,
    providers: new Map(options.providers.map((p) => [p.id, p])),
    ready() {
      loading ??= load().catch((err) => {
        loading = undefined; // the next request tries again
        throw err;
      });
      return loading;
    },
    admin() {
      if (!admin) throw new Error("[ollama-api-pool] state used before ready()");
      return admin;
    },
    maybeFlush(ctx) {
      if (options.now() - lastFlush < options.flushIntervalMs) return;
      const p = flush().catch((err) => {
        options.logger.error(`[ollama-api-pool] flushing statistics failed, will retry: ${(err as Error).message}`);
      });
      ctx?.waitUntil(p);
    },
    flush,
  };
}
