/**
 * Best-effort usage visibility: Ollama Cloud has an undocumented `GET /api/usage` (same Bearer
 * key) whose answer has carried `limits.session.usage` and `limits.weekly.usage` as 0–1
 * fractions. When enabled, keys are asked at a low, bounded rate; what comes back is shown per
 * key, and a key at its limit rests until that window resets. Anything unexpected (no such
 * endpoint, another shape, an error) means "unknown" and changes nothing: the pool works exactly
 * as without it.
 * @module
 */
import type { Provider, UsageSpec } from "../providers/types.ts";
import type { FetchLike } from "../proxy/attempt.ts";
import { sideFetch } from "../proxy/side_fetch.ts";
import type { KeyPool } from "./key_pool.ts";

/** A key's share of its usage windows, 0–1; absent = unknown or no limit. */
export interface KeyUsage {
  session?: number;
  weekly?: number;
}

/** Keys polled per round; one round runs at a time, at most one per tick. */
const POLL_BATCH = 16;
/** Keys looked at per round to find those due (the rest wait for the next round). */
const SCAN_BATCH = 512;
/** At or above this share a key rests until its window resets. */
export const REST_AT = 0.98;
/** Ollama's windows reset on fixed boundaries: the session every 5 hours of Unix time, the week on Monday 00:00 UTC. */
const SESSION_MS = 5 * 3600_000;
const WEEK_MS = 7 * 24 * 3600_000;
/** 1970-01-05 was a Monday: week boundaries are this offset plus whole weeks. */
const MONDAY_MS = 4 * 24 * 3600_000;

/** `limits.session.usage` and `limits.weekly.usage`, each kept only when a number in 0..1. */
export function readOllamaUsage(json: unknown): KeyUsage | undefined {
  const limits = (json as { limits?: Record<string, { usage?: unknown } | undefined> } | null)?.limits;
  if (typeof limits !== "object" || limits === null) return undefined;
  const share = (v: unknown): number | undefined => (typeof v === "number" && v >= 0 && v <= 1 ? v : undefined);
  const out: KeyUsage = {};
  const session = share(limits.session?.usage);
  const weekly = share(limits.weekly?.usage);
  if (session !== undefined) out.session = session;
  if (weekly !== undefined) out.weekly = weekly;
  return session === undefined && weekly === undefined ? undefined : out;
}

/** When the window a share belongs to resets next. */
export function windowReset(kind: "session" | "weekly", now: number): number {
  if (kind === "session") return (Math.floor(now / SESSION_MS) + 1) * SESSION_MS;
  return Math.floor((now - MONDAY_MS) / WEEK_MS + 1) * WEEK_MS + MONDAY_MS;
}

/** Polls usage endpoints and remembers the answers. */
export class UsagePoller {
  /** Last answer per `provider\nkey`. Bound: one entry per key polled; entries of removed keys go when next met. */
  #seen = new Map<string, KeyUsage & { at: number }>();
  #cursor = new Map<string, Iterator<string>>();
  #running: Promise<void> | undefined;
  #fetch: ReturnType<typeof sideFetch>;
  #intervalMs: number;
  #now: () => number;

  constructor(fetch: FetchLike, intervalMs: number, timeoutMs: number, now: () => number) {
    this.#fetch = sideFetch(fetch, timeoutMs);
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  get(provider: string, id: string): (KeyUsage & { at: number }) | undefined {
    return this.#seen.get(`${provider}\n${id}`);
  }

  /** Starts one round over providers with a usage endpoint; undefined if one is running. */
  poll(providers: Iterable<Provider>, pools: (id: string) => KeyPool): Promise<void> | undefined {
    if (this.#running) return undefined;
    const due: Array<[Provider, KeyPool, string]> = [];
    const now = this.#now();
    for (const provider of providers) {
      if (!provider.usage) continue;
      const pool = pools(provider.id);
      for (const id of this.#next(provider.id, pool)) {
        const last = this.#seen.get(`${provider.id}\n${id}`);
        if (!pool.has(id)) this.#seen.delete(`${provider.id}\n${id}`);
        else if ((!last || now - last.at >= this.#intervalMs) && pool.get(id)!.state !== "disabled") {
          due.push([provider, pool, id]);
        }
        if (due.length >= POLL_BATCH) break;
      }
    }
    if (due.length === 0) return undefined;
    this.#running = Promise.all(due.map(([provider, pool, id]) => this.#pollOne(provider, provider.usage!, pool, id)))
      .then(() => {})
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  /** Up to SCAN_BATCH ids, continuing where the last round stopped, from the start when done. */
  #next(provider: string, pool: KeyPool): string[] {
    const ids: string[] = [];
    let it = this.#cursor.get(provider);
    for (let restarted = false; ids.length < Math.min(SCAN_BATCH, pool.size);) {
      const step = it?.next();
      if (!step || step.done) {
        if (restarted) break;
        restarted = true;
        it = (function* () {
          for (const r of pool.values()) yield r.id;
        })();
        continue;
      }
      ids.push(step.value);
    }
    this.#cursor.set(provider, it!);
    return ids;
  }

  async #pollOne(provider: Provider, spec: UsageSpec, pool: KeyPool, id: string): Promise<void> {
    const rec = pool.get(id);
    if (!rec) return;
    const headers = new Headers(provider.headers);
    provider.authorize(headers, rec.secret);
    let usage: KeyUsage | undefined;
    try {
      usage = spec.read((await this.#fetch.json(spec.url, { headers })).json);
    } catch {
      usage = undefined; // absent endpoint, error, timeout: unknown
    }
    const now = this.#now();
    this.#seen.set(`${provider.id}\n${id}`, { ...usage, at: now });
    if (!usage || !pool.has(id)) return;
    for (const kind of ["weekly", "session"] as const) {
      const share = usage[kind];
      if (share === undefined || share < REST_AT) continue;
      const until = windowReset(kind, now);
      pool.report(id, {
        kind: "cooldown",
        ms: until - now,
        reason: `${kind} usage at ${Math.round(share * 100)} % of its limit`,
      });
      return;
    }
  }
}
