/**
 * Default classification of upstream answers into key outcomes: the table "What each upstream
 * answer does" in docs/ROUTING.md, as code (docs/ARCHITECTURE.md, "Key states").
 * @module
 */
import type { ClassifyRules, KeyOutcome } from "./types.ts";

const MAX_RETRY_AFTER_MS = 24 * 3600_000;

/**
 * Reads `retry-after-ms`, `x-ms-retry-after-ms` (milliseconds) or `retry-after`
 * (seconds or an HTTP date). Returns undefined when absent or unreadable.
 */
export function parseRetryAfter(headers: Headers, now: number = Date.now()): number | undefined {
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const v = headers.get(name);
    if (v !== null && v.trim() !== "" && Number.isFinite(Number(v)) && Number(v) >= 0) {
      return Math.min(Number(v), MAX_RETRY_AFTER_MS);
    }
  }
  const v = headers.get("retry-after");
  if (v === null || v.trim() === "") return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Math.min(Number(v) * 1000, MAX_RETRY_AFTER_MS);
  // Only an HTTP date (it has a weekday or month name); Date.parse would read "-3" as a year.
  const at = /[a-z]{3}/i.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

/** The default mapping: 2xx ok; 401/402/403 failure; 408/429/5xx/errors cooldown; other 4xx client error. */
export function classifyDefault(res: Response | Error, rules: ClassifyRules, now?: number): KeyOutcome {
  if (res instanceof Error) {
    // The provider's address is at fault, not the key (a probe then reports the message).
    if (res.name === "UpstreamRedirectError") return { kind: "client-error" };
    const timedOut = res.name === "TimeoutError" || res.name === "AbortError";
    const reason = timedOut
      ? "upstream timed out before the first byte"
      : res.name === "UpstreamStatusError"
      ? res.message
      : `upstream connection failed (${res.message})`;
    return { kind: "cooldown", ms: rules.errorCooldownMs, reason };
  }
  const s = res.status;
  if (s < 400) return { kind: "ok" };
  // Not the statusText: it is the upstream's own words (it could even echo the key).
  if (s === 401 || s === 402 || s === 403) return { kind: "failure", reason: `upstream answered ${s}` };
  if (s === 429) {
    const retryAfterMs = parseRetryAfter(res.headers, now);
    return {
      kind: "cooldown",
      ms: retryAfterMs ?? rules.rateLimitCooldownMs,
      reason: "upstream answered 429 (rate limited)",
      rateLimited: true,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }
  if (s === 408 || s >= 500) return { kind: "cooldown", ms: rules.errorCooldownMs, reason: `upstream answered ${s}` };
  return { kind: "client-error" };
}
