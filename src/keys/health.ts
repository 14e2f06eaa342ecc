/**
 * Health-check jobs: probe many keys with bounded concurrency and a per-key timeout, apply the
 * results to key state (healthy: back in rotation; 401/403: disabled; 429/5xx/timeout: resting),
 * and keep progress that admins can poll or stream.
 * @module
 */
import type { ClassifyRules, Provider } from "../providers/types.ts";
import type { FetchLike } from "../types.ts";
import { modelFamilies, probeKey, runBounded } from "./probe.ts";
import type { KeyRegistry } from "./registry.ts";
import { maskSecret } from "./secrets.ts";

/** One key's health-check result, as admins see it. */
export interface KeyCheck {
  id: string;
  key: string;
  healthy: boolean;
  status: number | null;
  error: string | null;
  families: string[];
  ms: number;
  timestamp: number;
}

/** A health-check job and its progress. */
export interface HealthJob {
  id: string;
  provider: string;
  total: number;
  done: number;
  healthy: number;
  unhealthy: number;
  startedAt: number;
  finishedAt: number | null;
  results: KeyCheck[];
  /** Resolves when the job is finished. */
  finished: Promise<void>;
}

/** Options of health checks. */
export interface HealthCheckOptions {
  /** Keys probed at once. @default 8 */
  concurrency: number;
  /** Per-key probe timeout. @default 10000 */
  timeoutMs: number;
  /** Most bytes of a probe's answer read (the model list). @default 32 MiB */
  maxResponseBytes?: number;
}

/** Most jobs kept for polling; the oldest finished ones go first. */
const KEPT_JOBS = 20;
/** New keys waiting for their model list to be read; beyond this they stay "any model". */
const MAX_DISCOVERY_QUEUE = 10_000;
/** Keys probed per discovery round (one round per tick at most). */
const DISCOVERY_BATCH = 64;

/** Runs and remembers health-check jobs. */
export class HealthChecks {
  #jobs = new Map<string, HealthJob>();
  #keys: KeyRegistry;
  #fetch: FetchLike;
  #rules: ClassifyRules & { disableMs: number };
  #options: HealthCheckOptions;
  #now: () => number;
  /** Newly added keys whose model list is to be read, per provider, oldest first. */
  #discovery = new Map<string, Set<string>>();
  #discovering: Promise<void> | undefined;
  #onModels?: (provider: string, models: string[]) => void;

  /** `onModels` hears the model lists healthy keys report (statistics prefer those names). */
  constructor(
    keys: KeyRegistry,
    fetch: FetchLike,
    rules: ClassifyRules & { disableMs: number },
    options: HealthCheckOptions,
    now: () => number,
    onModels?: (provider: string, models: string[]) => void,
  ) {
    this.#onModels = onModels;
    this.#keys = keys;
    this.#fetch = fetch;
    this.#rules = rules;
    this.#options = options;
    this.#now = now;
  }

  get(id: string): HealthJob | undefined {
    return this.#jobs.get(id);
  }

  /** Starts probing `ids` (default: every key) of a provider; returns at once. */
  start(provider: Provider, ids?: string[], onProgress?: (job: HealthJob) => void): HealthJob {
    const pool = this.#keys.pool(provider.id);
    // Each key once: a list naming one key 10,000 times must not send it 10,000 probes.
    const targets = [...new Set(ids ?? [...pool.values()].map((r) => r.id))].filter((id) => pool.has(id));
    const job: HealthJob = {
      id: crypto.randomUUID(),
      provider: provider.id,
      total: targets.length,
      done: 0,
      healthy: 0,
      unhealthy: 0,
      startedAt: this.#now(),
      finishedAt: null,
      results: [],
      finished: Promise.resolve(),
    };
    this.#remember(job);
    job.finished = runBounded(targets, this.#options.concurrency, async (id) => {
      const rec = pool.get(id);
      if (!rec) return undefined;
      const r = await this.#probe(provider, rec.secret);
      if (r.healthy && r.models?.length) this.#onModels?.(provider.id, r.models);
      if (r.healthy && r.models) pool.setModels(id, r.models);
      // A probe proves the key valid, not that its account has allowance left: a usage-cap rest
      // stays until its reset (else every check would spend one request on a capped account).
      const capRest = rec.cap !== undefined && rec.state === "cooling";
      if (r.healthy) {
        if (!capRest) pool.enable(id);
      } else if (r.outcome.kind === "failure") pool.disable(id, this.#rules.disableMs, `health check: ${r.reason}`);
      else if (r.outcome.kind === "cooldown") pool.report(id, r.outcome);
      return {
        id,
        key: maskSecret(rec.secret),
        healthy: r.healthy,
        status: r.status ?? null,
        error: r.reason ?? null,
        families: modelFamilies(r.models ?? []),
        ms: r.ms,
        timestamp: this.#now(),
      } satisfies KeyCheck;
    }, (check) => {
      job.done++;
      if (check) {
        job.results.push(check);
        if (check.healthy) job.healthy++;
        else job.unhealthy++;
      }
      onProgress?.(job);
    }).catch(() => {
      // Only a bug could land here (probeKey never throws); the job still ends, and nobody
      // awaiting it (a job started without ?wait) is left with an unhandled rejection.
    }).then(async () => {
      job.finishedAt = this.#now();
      await this.#keys.flush().catch(() => {}); // state changes reach storage and other instances
      try {
        onProgress?.(job);
      } catch { /* a progress listener's failure is its own */ }
    });
    return job;
  }

  /** Queues keys whose model lists a later {@link discover} round reads. Bounded. */
  queueDiscovery(provider: string, ids: string[]): void {
    let queue = this.#discovery.get(provider);
    if (!queue) this.#discovery.set(provider, queue = new Set());
    for (const id of ids) {
      if (queue.size >= MAX_DISCOVERY_QUEUE) break;
      queue.add(id);
    }
  }

  /**
   * Reads the model lists of up to {@link DISCOVERY_BATCH} queued keys, bounded in concurrency like
   * health checks. A key that answers is given its list; any other result leaves the key as it is
   * (the request path judges keys; a probe failing here only means the list stays unknown).
   * Undefined when nothing is queued or a round is running.
   */
  discover(providers: ReadonlyMap<string, Provider>): Promise<void> | undefined {
    if (this.#discovering || this.#discovery.size === 0) return undefined;
    const batch: Array<[Provider, string]> = [];
    for (const [pid, queue] of this.#discovery) {
      const provider = providers.get(pid);
      for (const id of queue) {
        if (batch.length >= DISCOVERY_BATCH) break;
        queue.delete(id);
        if (provider?.probe) batch.push([provider, id]);
      }
      if (queue.size === 0) this.#discovery.delete(pid);
    }
    this.#discovering = runBounded(batch, this.#options.concurrency, async ([provider, id]) => {
      const pool = this.#keys.pool(provider.id);
      const rec = pool.get(id);
      if (!rec) return;
      const r = await this.#probe(provider, rec.secret);
      if (r.healthy && r.models) pool.setModels(id, r.models);
    }).then(() => {}).finally(() => {
      this.#discovering = undefined;
    });
    return this.#discovering;
  }

  /** One probe of `secret`, with this checker's timeout, rules and answer-size bound. */
  #probe(provider: Provider, secret: string): ReturnType<typeof probeKey> {
    return probeKey(
      this.#fetch,
      provider,
      secret,
      this.#options.timeoutMs,
      this.#rules,
      this.#options.maxResponseBytes,
      this.#now,
    );
  }

  #remember(job: HealthJob): void {
    this.#jobs.set(job.id, job);
    for (const [id, j] of this.#jobs) {
      if (this.#jobs.size <= KEPT_JOBS) break;
      if (j.finishedAt !== null) this.#jobs.delete(id);
    }
  }
}
