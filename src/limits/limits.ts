/**
 * Request limits: per client IP and per client token (requests per window), tokens per minute,
 * total-token quotas and allowed models. Decided from memory; shared through the store on sync.
 * @module
 */
import type { TokenRecord } from "../auth/types.ts";
import { PoolError } from "../errors.ts";
import { statsRecord, type StatsRecorder } from "../stats/recorder.ts";
import type { CounterSink } from "../store/counters.ts";
import { WindowCounter } from "./window.ts";

/** Rate limits. Per-token settings (`rpm`, `tpm`, `quota`, `allowedModels`) live on each token. */
export interface RateLimitOptions {
  /** Requests per window per client IP (needs `clientIp`). @default off */
  perIp?: number;
  /** Requests per window for tokens without their own `rpm`. @default off */
  perToken?: number;
  /** The window. @default 60000 */
  windowMs?: number;
}

/** Whether `model` is allowed by a list of names and `prefix*` patterns. */
export function modelAllowed(allowed: string[] | undefined, model: string | undefined): boolean {
  if (!allowed || allowed.length === 0) return true;
  if (model === undefined) return true; // model lists and tags; a POST without model is the upstream's 400
  return allowed.some((p) => (p.endsWith("*") ? model.startsWith(p.slice(0, -1)) : p === model));
}

function tooMany(code: string, message: string, retryMs: number): PoolError {
  const seconds = Math.max(1, Math.ceil(retryMs / 1000));
  return new PoolError(429, code, `${message}; retry in ${seconds} s`, { headers: { "retry-after": String(seconds) } });
}

/** Enforces the limits; `sync()` shares the counts. */
export class Limits {
  #o: RateLimitOptions;
  #requests: WindowCounter;
  #tokensPerMinute: WindowCounter;
  #stats: StatsRecorder;
  /** Total tokens used, for tokens with a quota: loaded from statistics, kept up locally. */
  #used = new Map<string, number>();

  constructor(o: RateLimitOptions, sink: CounterSink, stats: StatsRecorder, now: () => number) {
    this.#o = o;
    this.#requests = new WindowCounter("requests", o.windowMs ?? 60_000, sink, now);
    this.#tokensPerMinute = new WindowCounter("tokens", 60_000, sink, now);
    this.#stats = stats;
  }

  /** Per-IP request limit; throws 429 beyond it. */
  checkIp(ip: string | undefined): void {
    const limit = this.#o.perIp;
    if (!limit || !ip) return;
    const key = `ip:${ip}`;
    if (this.#requests.count(key) >= limit) throw tooMany("ip_rate_limited", `more than ${limit} requests from this address per window`, this.#requests.resetIn());
    this.#requests.add(key);
  }

  /** A token's policies for one request; throws 403 or 429. */
  checkToken(rec: TokenRecord, model: string | undefined): void {
    if (!modelAllowed(rec.allowedModels, model)) {
      throw new PoolError(403, "model_not_allowed", `this client token may not use model ${JSON.stringify(model ?? null)}`);
    }
    if (rec.quota !== undefined && (this.#used.get(rec.id) ?? 0) >= rec.quota) {
      throw new PoolError(429, "insufficient_quota", `this client token has used its quota of ${rec.quota} tokens`);
    }
    if (rec.tpm !== undefined && this.#tokensPerMinute.count(rec.id) >= rec.tpm) {
      throw tooMany("tokens_per_minute_exceeded", `this client token used its ${rec.tpm} tokens per minute`, this.#tokensPerMinute.resetIn());
    }
    const rpm = rec.rpm ?? this.#o.perToken;
    if (rpm) {
      const key = `token:${rec.id}`;
      if (this.#requests.count(key) >= rpm) throw tooMany("rate_limit_exceeded", `this client token is limited to ${rpm} requests per window`, this.#requests.resetIn());
      this.#requests.add(key);
    }
  }

  /** Counts a finished request's tokens toward per-minute and quota limits. */
  usage(rec: TokenRecord | undefined, tokens: number): void {
    if (!rec || tokens <= 0) return;
    if (rec.tpm !== undefined) this.#tokensPerMinute.add(rec.id, tokens);
    if (rec.quota !== undefined) this.#used.set(rec.id, (this.#used.get(rec.id) ?? 0) + tokens);
  }

  /** Shares window counts and re-reads quota usage (other instances' included). */
  async sync(tokens: TokenRecord[]): Promise<void> {
    // No limit configured anywhere: no storage work at all.
    if (this.#o.perIp || this.#o.perToken || tokens.some((t) => t.rpm !== undefined)) await this.#requests.sync();
    if (tokens.some((t) => t.tpm !== undefined)) await this.#tokensPerMinute.sync();
    const withQuota = tokens.filter((t) => t.quota !== undefined);
    if (withQuota.length === 0) return;
    const counters = await this.#stats.read(withQuota.map((t) => statsRecord.token(t.id)));
    withQuota.forEach((t, i) => {
      const stored = (counters[i].promptTokens ?? 0) + (counters[i].completionTokens ?? 0);
      this.#used.set(t.id, Math.max(stored, this.#used.get(t.id) ?? 0));
    });
  }
}
