/**
 * What one upstream attempt's outcome does to a key's state, as a patch the key pool applies:
 * failures count up to a disable, rate limits and errors rest the key (429s without Retry-After
 * back off exponentially), a usage cap rests it until its reset, a success clears it all.
 * Pure: no clock, no I/O, no knowledge of where the key sits in the pool.
 * @module
 */
import type { KeyOutcome } from "../providers/types.ts";
import type { HealthRules, KeyRecord } from "./types.ts";

/**
 * Longest rest after repeated 429s without Retry-After (1 h): the first rests
 * `rateLimitCooldownMs` (60 s), each further one twice as long, up to this.
 */
export const MAX_BACKOFF_MS = 3_600_000;

/**
 * How long a key woken after a usage cap stays out of rotation while its one half-open try is in
 * flight. The try's answer normally decides sooner (back to work, or resting until the next
 * reset); without one (its client left first) the key is tried again after this.
 */
export const HALF_OPEN_MS = 60_000;

/** Back in rotation with a clean slate: failures, rest, usage cap and rate-limit streak cleared. */
export const BACK_TO_WORK: Readonly<Partial<KeyRecord>> = {
  state: "active",
  failures: 0,
  until: undefined,
  reason: undefined,
  cap: undefined,
  rateLimitStreak: undefined,
  backoffUntil: undefined,
};

/** A key awake after a usage cap, handed out for one try: out of rotation until that try reports. */
export function halfOpenTry(cap: string, now: number): Partial<KeyRecord> {
  return { state: "cooling", until: now + HALF_OPEN_MS, reason: `half-open try after the ${cap} usage limit` };
}

/**
 * The change an attempt's `outcome` makes to `rec` at `now`, or undefined for none. A usage cap
 * rests the key until its reset, and no shorter rest reported meanwhile (by requests that were
 * in flight) cuts that short. A 429 without Retry-After rests the key `ms` × 2^(n−1) for the
 * n-th in a row, at most {@link MAX_BACKOFF_MS}; those reported before the rest of the last
 * step ended (sent in parallel) count as the same step. A success clears failures, cap and streak.
 */
export function outcomePatch(
  rec: KeyRecord,
  outcome: KeyOutcome,
  rules: HealthRules,
  now: number,
): Partial<KeyRecord> | undefined {
  switch (outcome.kind) {
    case "ok":
      return rec.failures !== 0 || rec.state !== "active" || rec.cap !== undefined ||
          rec.rateLimitStreak !== undefined
        ? { ...BACK_TO_WORK }
        : undefined;
    case "client-error":
      return undefined;
    case "cooldown": {
      // A key disabled meanwhile (by a failure on a parallel request) stays disabled.
      if (rec.state === "disabled") return undefined;
      if (outcome.cap !== undefined) {
        return {
          state: "cooling",
          until: now + outcome.ms,
          reason: outcome.reason,
          cap: outcome.cap,
          rateLimitStreak: undefined,
          backoffUntil: undefined,
        };
      }
      if (rec.cap !== undefined && rec.state === "cooling" && (rec.until ?? Infinity) > now + outcome.ms) {
        return undefined;
      }
      const patch: Partial<KeyRecord> = { state: "cooling", until: now + outcome.ms, reason: outcome.reason };
      if (outcome.rateLimited && outcome.retryAfterMs === undefined) {
        // 429s of requests sent before the last step's rest ended are the same burst: one step.
        const sameBurst = rec.rateLimitStreak !== undefined && now < (rec.backoffUntil ?? 0);
        const streak = sameBurst ? rec.rateLimitStreak! : Math.min((rec.rateLimitStreak ?? 0) + 1, 32); // 2^31 × 60 s is far past the bound
        patch.until = now + Math.min(outcome.ms * 2 ** (streak - 1), Math.max(MAX_BACKOFF_MS, outcome.ms));
        patch.rateLimitStreak = streak;
        if (!sameBurst) patch.backoffUntil = patch.until;
      }
      return patch;
    }
    case "failure": {
      const failures = rec.failures + 1;
      return failures >= rules.failuresBeforeDisable
        ? { state: "disabled", failures, until: now + rules.disableMs, reason: outcome.reason }
        : { failures };
    }
  }
}
