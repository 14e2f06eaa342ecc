/**
 * Request limits: per client IP and per client token (requests per window), tokens per minute,
 * total-token quotas and allowed models. Decided from memory; shared through the store on sync.
 * @module
 */
import type { TokenRecord } from "../auth/types.ts";
import { echoed, PoolError } from "../errors.ts";
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

/**
 * Completion tokens reserved for a request that names no output limit (`max_tokens`,
 * `max_completion_tokens`, `max_output_tokens`, `num_predict`): about a long chat answer.
 */
export const DEFAULT_RESERVED_OUTPUT_TOKENS = 1024;

/**
 * What a request is expected to cost, reserved against `quota` and `tpm` while it runs: the
 * prompt at 4 characters of the request body per token (the rule a client that hangs up is
 * charged by), plus the output limit it asked for, else {@link DEFAULT_RESERVED_OUTPUT_TOKENS}.
 * A request without a body (model lists) costs no tokens and reserves none.
 */
export function reservationEstimate(body: string | undefined, maxOutputTokens: number | undefined): number {
  if (body === undefined) return 0;
  return Math.ceil((body?.length ?? 0) / 4) + (maxOutputTokens ?? DEFAULT_RESERVED_OUTPUT_TOKENS);
}

/** Enforces the limits; `sync()` shares the counts. */
export class Limits {
  #o: RateLimitOptions;
  #requests: WindowCounter;
  #tokensPerMinute: WindowCounter;
  #stats: StatsRecorder;
  /** Total tokens used, for tokens with a quota: loaded from statistics, kept up locally. */
  #used = new Map<string, number>();
  /**
   * Tokens reserved by this instance's requests in flight, per client token with a `quota` or
   * `tpm`. An entry lives only while a request of its token runs, so it is bounded by the
   * requests in flight.
   */
  #reserved = new Map<string, number>();

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
    if (this.#requests.count(key) >= limit) {
      throw tooMany(
        "ip_rate_limited",
        `more than ${limit} requests from this address per window`,
        this.#requests.resetIn(),
      );
    }
    this.#requests.add(key);
  }

  /**
   * A token's policies for one request; throws 403 or 429. A token with a `quota` or `tpm` is
   * admitted while its usage plus what its requests in flight reserved is below the limit, and
   * then reserves `estimate` tokens itself (see {@link reservationEstimate}): usage is only known
   * when a request ends, so without the reservation any number of parallel requests would pass a
   * check made before the first of them finished. Returns the function that releases the
   * reservation (call it when the request is over, after its real usage was counted with
   * `usage()`; calling it again does nothing), or undefined when nothing was reserved. A request
   * refused here reserves nothing.
   */
  checkToken(rec: TokenRecord, model: string | undefined, estimate = 0): (() => void) | undefined {
    if (!modelAllowed(rec.allowedModels, model)) {
      throw new PoolError(
        403,
        "model_not_allowed",
        `this client token may not use model ${echoed(model ?? null)}`,
      );
    }
    const reserved = this.#reserved.get(rec.id) ?? 0;
    if (rec.quota !== undefined) {
      const used = this.#used.get(rec.id) ?? 0;
      if (used >= rec.quota) {
        throw new PoolError(429, "insufficient_quota", `this client token has used its quota of ${rec.quota} tokens`);
      }
      if (used + reserved >= rec.quota) {
        // Not insufficient_quota: clients take that as final, and this clears as requests end.
        throw tooMany(
          "quota_reserved",
          `the rest of this client token's quota (${rec.quota - used} tokens) is reserved by its requests in flight`,
          1000,
        );
      }
    }
    if (rec.tpm !== undefined && this.#tokensPerMinute.count(rec.id) + reserved >= rec.tpm) {
      throw tooMany(
        "tokens_per_minute_exceeded",
        `this client token used its ${rec.tpm} tokens per minute`,
        this.#tokensPerMinute.resetIn(),
      );
    }
    const rpm = rec.rpm ?? this.#o.perToken;
    if (rpm) {
      const key = `token:${rec.id}`;
      if (this.#requests.count(key) >= rpm) {
        throw tooMany(
          "rate_limit_exceeded",
          `this client token is limited to ${rpm} requests per window`,
          this.#requests.resetIn(),
        );
      }
      this.#requests.add(key);
    }
    if ((rec.quota === undefined && rec.tpm === undefined) || !(estimate > 0)) return undefined;
    this.#reserved.set(rec.id, reserved + estimate);
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      const left = (this.#reserved.get(rec.id) ?? 0) - estimate;
      if (left > 0) this.#reserved.set(rec.id, left);
      else this.#reserved.delete(rec.id);
    };
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
