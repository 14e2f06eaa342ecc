/**
 * The errors of requests no key could serve: why the rotation ended (no keys, resting keys, a
 * pool-wide rate limit, usage caps, a model nobody has, a request two keys failed on).
 * @module
 */
import { PoolError } from "../errors.ts";
import type { LogAttempt } from "../logs/types.ts";
import type { RequestOutcome } from "../stats/recorder.ts";
import type { ProxyCall, ProxyDeps } from "./call.ts";

/**
 * A second key answered 5xx to the same request: the request is at fault (a model or parameters
 * the upstream fails on, whatever the key), not the keys. Neither key rests, so a client sending
 * such requests cannot take healthy keys out of rotation, and no further key is tried (that would
 * only spread the same failure). Both attempts count as the caller's error on their keys.
 */
export function serverErrorTwice(
  d: ProxyDeps,
  c: ProxyCall,
  first: { keyId: string; status: number; logged: LogAttempt },
  second: { keyId: string; status: number; logged: LogAttempt },
  finish: (o: RequestOutcome) => void,
): PoolError {
  const reason = "a second key got a 5xx too: the request's fault, no key rested";
  for (const a of [first, second]) {
    d.stats.attempt(c.provider.id, a.keyId, "client_error");
    Object.assign(a.logged, { outcome: "client-error", reason });
  }
  finish("failure");
  return new PoolError(
    502,
    "upstream_request_failed",
    `the upstream answered ${first.status} and then ${second.status} to this request with two different keys of provider "${c.provider.id}": ` +
      "the request (its model or parameters) is taken to be at fault, not the keys; no further key was tried",
  );
}

/** The error for a request no key could serve. */
export function exhausted(
  d: ProxyDeps,
  c: ProxyCall,
  tried: Set<string>,
  lastReason: string,
  rateLimitedOnly: boolean,
  capped: Set<string>,
  retryAfterMs?: number,
): PoolError {
  const id = c.provider.id;
  if (tried.size === 0) {
    if (c.keys.size === 0) return new PoolError(503, "no_keys", `no upstream keys are configured for provider "${id}"`);
    if (c.request.model !== undefined && c.keys.counts().active > 0) {
      return new PoolError(404, "model_not_found", `no key of provider "${id}" serves model "${c.request.model}"`);
    }
    const wake = c.keys.nextWake();
    if (wake === undefined) {
      return new PoolError(503, "no_active_keys", `every upstream key of provider "${id}" is disabled`);
    }
    const seconds = Math.max(1, Math.ceil((wake - d.now()) / 1000));
    const headers = { "retry-after": String(seconds) };
    // Keys resting after rate limits or errors mean "come back soon" (429); only disabled keys
    // resting until a re-try mean the pool itself is unavailable (503).
    if (c.keys.counts().cooling > 0) {
      return new PoolError(
        429,
        "keys_cooling_down",
        `every upstream key of provider "${id}" is resting; retry in ${seconds} s`,
        { headers },
      );
    }
    return new PoolError(
      503,
      "no_active_keys",
      `every upstream key of provider "${id}" is disabled; the first is re-tried in ${seconds} s`,
      { headers },
    );
  }
  if (c.request.model !== undefined && c.keys.models.lacked(c.request.model, d.now())) {
    // Keys that could have the model failed; others said they lack it: the definite answer wins.
    return new PoolError(
      404,
      "model_not_found",
      `no key of provider "${id}" that was asked serves model "${c.request.model}"`,
    );
  }
  if (rateLimitedOnly && capped.size === tried.size) {
    // Every account tried used up its allowance: each rests until its own reset. The client may
    // come back when the first key wakes (or at once, if keys not tried here are ready).
    const wake = c.keys.counts().active > 0 ? d.now() : c.keys.nextWake() ?? d.now();
    const seconds = Math.max(1, Math.ceil((wake - d.now()) / 1000));
    return new PoolError(
      429,
      "upstream_usage_limited",
      `every upstream key tried for provider "${id}" has reached a usage limit (last: ${lastReason}); retry in ${seconds} s`,
      {
        headers: { "retry-after": String(seconds) },
      },
    );
  }
  if (rateLimitedOnly) {
    // A pool-wide limit: every key tried got 429. None is disabled, and they cool only for what
    // the upstream asked (or briefly when it did not say), so the pool recovers with the upstream.
    // Keys that reported a usage cap are not part of it: they keep resting until their reset.
    // (Not marked rateLimited: the key's own 429 already counted toward its back-off.)
    const ms = retryAfterMs ?? d.rules.errorCooldownMs;
    for (const keyId of tried) {
      if (!capped.has(keyId)) c.keys.report(keyId, { kind: "cooldown", ms, reason: "upstream rate limit" });
    }
    const seconds = Math.max(1, Math.ceil(ms / 1000));
    return new PoolError(
      429,
      "upstream_rate_limited",
      `every upstream key tried for provider "${id}" is rate limited; retry in ${seconds} s`,
      {
        headers: { "retry-after": String(seconds) },
      },
    );
  }
  return new PoolError(
    503,
    "upstream_unavailable",
    `all ${tried.size} upstream attempts failed; last: ${forClients(lastReason)}`,
  );
}

/**
 * A reason as a client may read it: a transport's own words ("connect ECONNREFUSED
 * 10.0.0.5:11434") name the upstream's hosts and ports, so they stay in the log and the key's
 * reason, for the admin.
 */
function forClients(reason: string): string {
  return reason.startsWith("upstream connection failed (") ? "upstream connection failed" : reason;
}
