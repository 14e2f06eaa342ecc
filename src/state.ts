/**
 * The pool's runtime state: storage, key pools, tokens, statistics and the admin credential,
 * loaded once on the first request, and the background tick that persists what requests change
 * and takes in what other instances changed. Nothing here runs on a timer of its own (Workers
 * forbid that): requests and the Node server's interval call `tick()`.
 * @module
 */
import { type AdminCredential, resolveAdmin } from "./auth/admin.ts";
import { EndedSessions } from "./auth/ended_sessions.ts";
import { ResponseCache } from "./cache/response_cache.ts";
import { TokenRegistry } from "./auth/tokens.ts";
import { HealthChecks } from "./keys/health.ts";
import { KeyRegistry } from "./keys/registry.ts";
import { UsagePoller } from "./keys/usage_poll.ts";
import { createGuessThrottles, type GuessThrottles } from "./limits/guesses.ts";
import { Limits } from "./limits/limits.ts";
import { RequestLog } from "./logs/request_log.ts";
import type { ResolvedOptions } from "./options.ts";
import type { Provider } from "./providers/types.ts";
import { Metrics } from "./stats/metrics.ts";
import { StatsRecorder } from "./stats/recorder.ts";
import { ChangeFeed } from "./store/feed.ts";
import { CATCH_UP_WAIT_MS, presentsCredentials, SyncPace, waitAtMost } from "./store/sync_pace.ts";
import { Quarantine } from "./store/quarantine.ts";
import { counterSinkFor, isAtomic } from "./store/sinks.ts";
import { createStore, type PoolStore } from "./store/store.ts";
import { failingAsUnavailable, sinkFailingAsUnavailable, storageErrorMessage } from "./store/unavailable.ts";
import { createUsers, type Users } from "./users/users.ts";

/**
 * Most request log records kept on `memory:` storage (~0.4 KB of heap each, so ~20 MB): there the
 * log lives in the process's heap, and a week of records at 1,000 req/s would be ~250 GB. A heap
 * that grows with every request served also makes each garbage collection longer.
 */
const MEMORY_LOG_RECORDS = 50_000;

/** Workers-style execution context: work that may outlive the response. */
export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
}

/** How the store is doing, for `/health`. */
export interface StoreHealth {
  status: "ok" | "degraded";
  driver: string;
  /** Counters are exact across instances (atomic increments). */
  atomicCounters: boolean;
  /** The last storage error, while degraded. */
  error?: string;
  since?: number;
  /** Unreadable records set aside under `quarantine:` (degraded while there are any). */
  quarantined?: number;
}

/** Everything routes need. */
export interface PoolState {
  readonly options: ResolvedOptions;
  readonly store: PoolStore;
  readonly stats: StatsRecorder;
  readonly tokens: TokenRegistry;
  readonly keys: KeyRegistry;
  readonly feed: ChangeFeed;
  readonly health: HealthChecks;
  /** Usage polling, when `healthCheck.usageIntervalMs` is set. */
  readonly usage?: UsagePoller;
  readonly limits: Limits;
  /** Failed admin-token and client-token checks per client address. */
  readonly guesses: GuessThrottles;
  /** Dashboard sessions ended by logging out. */
  readonly endedSessions: EndedSessions;
  readonly cache: ResponseCache;
  /** The request log; absent when `logRetentionDays` is 0. */
  readonly logs?: RequestLog;
  readonly metrics: Metrics;
  readonly providers: Map<string, Provider>;
  /** The user system, when `users` is configured. */
  readonly users?: Users;
  /** Resolves once storage is loaded; cheap after the first call. */
  ready(): Promise<void>;
  admin(): AdminCredential;
  /**
   * Starts whatever background work is due; hands it to `ctx.waitUntil` when there is one. The
   * context comes through a getter, asked only when there is work (Hono's throws when absent).
   */
  tick(ctx?: () => ExecutionContextLike | undefined): void;
  /**
   * Called as a request starts: notes it, and when the instance had gone quiet (syncing every
   * 30 s instead of `syncIntervalMs`), returns the catch-up sync the request should wait for.
   */
  beforeRequest(headers: Headers): Promise<void> | undefined;
  /** Writes every pending counter and key-state change, and reads other instances' changes. */
  flush(): Promise<void>;
  storeHealth(): StoreHealth;
}

/** Builds the state; nothing is read from storage until `ready()`. */
export function createState(options: ResolvedOptions): PoolState {
  // Every storage call below rejects with a 503 storage_unavailable when the backend fails.
  const storage = failingAsUnavailable(options.storage);
  const quarantine = new Quarantine(storage, (m) => options.logger.error(m), options.now);
  const store = createStore(storage, sinkFailingAsUnavailable(counterSinkFor(options.storage, quarantine)), quarantine);
  const feed = new ChangeFeed(storage, options.now);
  const ids = options.providers.map((p) => p.id);
  const keys = new KeyRegistry(ids, store, feed, options.failover, options.now);
  const tokens = new TokenRegistry(store, feed, options.now);
  const stats = new StatsRecorder(store.counters, options.now);
  const cache = new ResponseCache(options.cache, storage, options.now, feed);
  const limits = new Limits(options.rateLimit, store.counters, stats, options.now);
  const health = new HealthChecks(
    keys,
    options.fetch,
    options.failover,
    { ...options.healthCheck, maxResponseBytes: options.maxResponseBytes },
    options.now,
    (p, models) => stats.served(p, models),
  );
  const providers = new Map(options.providers.map((p) => [p.id, p]));
  const usage = options.healthCheck.usageIntervalMs === undefined
    ? undefined
    : new UsagePoller(options.fetch, options.healthCheck.usageIntervalMs, options.healthCheck.timeoutMs, options.now);
  if (options.healthCheck.discoverModels) keys.onAdded = (provider, added) => health.queueDiscovery(provider, added);
  const driver = options.storage.getMount("").driver.name ?? "custom";
  const logs = options.logRetentionDays > 0
    ? new RequestLog(storage, {
      retentionDays: options.logRetentionDays,
      now: options.now,
      ...(driver === "memory" ? { maxStoredRecords: MEMORY_LOG_RECORDS } : {}),
    })
    : undefined;
  const users = options.users
    ? createUsers(options.users, {
      storage,
      tokens,
      stats,
      sink: store.counters,
      fetch: options.fetch,
      now: options.now,
      quarantine,
    })
    : undefined;
  let lastHealthCheck = options.now();
  /** Re-probes disabled keys on schedule (HEALTH_CHECK_INTERVAL); one job per provider at a time. */
  const scheduledChecks = (): Promise<void> | undefined => {
    const every = options.healthCheck.intervalMs;
    if (every === undefined || options.now() - lastHealthCheck < every) return undefined;
    lastHealthCheck = options.now();
    const jobs = [...providers.values()].map((p) => {
      const ids = [...keys.pool(p.id).values()].filter((r) => r.state === "disabled").map((r) => r.id);
      return ids.length ? health.start(p, ids).finished : Promise.resolve();
    });
    return Promise.all(jobs).then(() => {});
  };
  const atomicCounters = isAtomic(options.storage);
  let admin: AdminCredential | undefined;
  let loading: Promise<void> | undefined;
  let lastSync = options.now();
  const pace = new SyncPace(options.syncIntervalMs, options.now, () => feed.movedAt, () => keys.pending);
  let lastFlush = options.now();
  let syncing: Promise<void> | undefined;
  let failure: { error: string; since: number } | undefined;

  const load = async (): Promise<void> => {
    admin = await resolveAdmin(
      store,
      options.auth.adminToken,
      options.auth.onAdminTokenGenerated ?? ((token) => {
        options.logger.warn(`[ollama-api-pool] no ADMIN_TOKEN was set; generated one (shown only this once): ${token}`);
      }),
    );
    await quarantine.load();
    await Promise.all([keys.load(), tokens.load(), stats.load(ids)]);
    await limits.sync(tokens.list()); // quota usage known before the first request
  };

  /** Runs storage work, tracking whether the store answers. */
  const guarded = async (work: () => Promise<void>): Promise<void> => {
    try {
      await work();
      failure = undefined;
    } catch (err) {
      const message = storageErrorMessage(err);
      if (!failure) {
        options.logger.error(`[ollama-api-pool] storage unavailable, serving from memory and retrying: ${message}`);
      }
      failure = { error: message, since: failure?.since ?? options.now() };
      throw err;
    }
  };

  const sync = (): Promise<void> => {
    lastSync = options.now();
    syncing ??= guarded(async () => {
      await keys.flush();
      for (const e of await feed.poll()) {
        if (e.kind === "keys" && e.provider) await keys.apply(e.provider, e.ids, e.all);
        else if (e.kind === "tokens") await (e.all ? tokens.load() : tokens.apply(e.ids));
        else if (e.kind === "cache") cache.forget({ provider: e.provider, model: e.model });
      }
      await limits.sync(tokens.list());
    }).finally(() => {
      syncing = undefined;
    });
    return syncing;
  };
  const flushStats = (): Promise<void> => {
    lastFlush = options.now();
    // The log flushes on the statistics' schedule: both are batches that may wait a few seconds.
    return guarded(() => Promise.all([stats.flush(), logs?.flush()]).then(() => {}));
  };
  const background = (p: Promise<void>, ctx?: () => ExecutionContextLike | undefined): void => {
    const safe = p.catch(() => {}); // already logged once by guarded(); retried on the next tick
    ctx?.()?.waitUntil(safe);
  };

  return {
    options,
    store,
    stats,
    tokens,
    keys,
    feed,
    health,
    limits,
    cache,
    providers,
    users,
    usage,
    logs,
    guesses: createGuessThrottles(store.counters, options.now),
    endedSessions: new EndedSessions(options.storage, options.now),
    metrics: new Metrics(),
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
    tick(ctx) {
      const now = options.now();
      if (!syncing && now - lastSync >= pace.interval(now)) background(sync(), ctx);
      if (now - lastFlush >= options.flushIntervalMs) background(flushStats(), ctx);
      const checks = scheduledChecks();
      if (checks) background(checks, ctx);
      const discovery = options.healthCheck.discoverModels ? health.discover(providers) : undefined;
      if (discovery) background(discovery.then(() => keys.flush()), ctx);
      const polled = usage?.poll(providers.values(), (id) => keys.pool(id));
      if (polled) background(polled, ctx);
      const swept = cache.sweepIfDue();
      if (swept) background(swept, ctx);
    },
    beforeRequest(headers) {
      if (!presentsCredentials(headers) || !pace.request(lastSync)) return undefined;
      return waitAtMost(sync(), CATCH_UP_WAIT_MS); // a failed sync was logged; serve from memory
    },
    async flush() {
      const results = await Promise.allSettled([flushStats(), sync()]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
    },
    storeHealth() {
      const quarantined = quarantine.count ? { quarantined: quarantine.count } : {};
      if (failure) {
        return {
          status: "degraded",
          driver,
          atomicCounters,
          error: failure.error,
          since: failure.since,
          ...quarantined,
        };
      }
      return { status: quarantine.count ? "degraded" : "ok", driver, atomicCounters, ...quarantined };
    },
  };
}
