/**
 * Upstream redirects, followed by the pool itself and only within the origin the request went to.
 *
 * A `fetch` that follows redirects drops `Authorization` when one leaves the origin, but nothing
 * else: a provider that authenticates with `x-api-key`, `api-key` or a custom header would send
 * its key to wherever the upstream (or whoever controls its DNS, or an open redirect on it)
 * points. So every upstream request the pool sends (proxy attempts, probes, usage polls, mail,
 * Turnstile) goes out with `redirect: "manual"`, and this module decides: a redirect to the same
 * origin is followed (at most {@link MAX_REDIRECTS} hops; FastAPI-based OpenAI-compatible servers
 * answer a trailing-slash mismatch with a 307), anything else ends the request with an
 * {@link UpstreamRedirectError}, which names neither the target nor the key.
 *
 * `redirect: "manual"` returns the 3xx answer itself on Node, Deno, Bun and Workers; a browser
 * returns an opaque answer (status 0, no `Location`), which is refused as well. undici's own
 * `request()` (the Node transport's `send`) never follows redirects: its 3xx is handled here too.
 * @module
 */
import { PoolError } from "../errors.ts";
import type { RequestOutcome } from "../stats/recorder.ts";
import type { FetchLike } from "../types.ts";
import type { ProxyCall, ProxyDeps } from "./call.ts";
import { discardAnswer, type Transport, type TransportFetch, type UpstreamAnswer } from "./transport.ts";

/** Same-origin redirects followed per request; a longer chain is refused (a loop ends here). */
export const MAX_REDIRECTS = 3;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** A redirect the pool did not follow. Its message is safe to show: no target, no key. */
export class UpstreamRedirectError extends Error {
  /** The upstream's 3xx status (0 when the runtime hid it). */
  readonly status: number;
  constructor(status: number, why: string) {
    super(`upstream answered a redirect${status ? ` (${status})` : ""} that was not followed: ${why}`);
    this.name = "UpstreamRedirectError";
    this.status = status;
  }
}

/**
 * Where to go next for a redirect answer `status` with `location` to a request of `method` to
 * `url`: the next URL, undefined when the answer is no redirect (a 3xx without `Location` is an
 * ordinary answer), or an error when it must not be followed. `hops`: redirects followed so far.
 */
function nextHop(
  url: string,
  method: string,
  status: number,
  location: string | null,
  hops: number,
): string | undefined {
  if (status === 0) throw new UpstreamRedirectError(0, "the runtime hides its target");
  if (!REDIRECT_STATUSES.has(status) || location === null) return undefined;
  let target: URL;
  try {
    target = new URL(location, url);
  } catch {
    throw new UpstreamRedirectError(status, "its Location is no URL");
  }
  if (target.origin !== new URL(url).origin) {
    throw new UpstreamRedirectError(status, "it leads to another origin, which is never sent a key");
  }
  // 301/302/303 turn a POST into a GET without its body: a completion request would become another request.
  if (status !== 307 && status !== 308 && method !== "GET" && method !== "HEAD") {
    throw new UpstreamRedirectError(status, `it would turn the ${method} into a GET`);
  }
  if (hops >= MAX_REDIRECTS) throw new UpstreamRedirectError(status, `more than ${MAX_REDIRECTS} redirects`);
  return target.href;
}

/** Whether a request body can be sent a second time (a stream is used up by the first). */
function resendable(body: unknown): boolean {
  return body === undefined || body === null || typeof body === "string" || body instanceof URLSearchParams ||
    body instanceof Uint8Array || body instanceof ArrayBuffer || body instanceof Blob || body instanceof FormData;
}

/** A transport that follows only same-origin redirects (see the module doc). */
export function sameOriginTransport(transport: Transport): Transport {
  return {
    async send(url, request) {
      for (let hops = 0;; hops++) {
        const answer: UpstreamAnswer = await transport.send(url, request);
        let next: string | undefined;
        try {
          next = nextHop(url, request.method, answer.status, answer.headers["location"] ?? null, hops);
        } catch (err) {
          discardAnswer(answer);
          throw err;
        }
        if (next === undefined) return answer;
        discardAnswer(answer);
        url = next;
      }
    },
  };
}

/**
 * `fetch` (or the Node transport, both of its faces) sending with `redirect: "manual"` and
 * following only same-origin redirects. Wrapping one already wrapped returns it as it is.
 */
export function sameOriginFetch(fetch: FetchLike | TransportFetch): FetchLike | TransportFetch {
  if (GUARDED.has(fetch)) return fetch;
  const fetchFace: FetchLike = async (url, init) => {
    const method = (init.method ?? "GET").toUpperCase();
    for (let hops = 0;; hops++) {
      const res = await fetch(url, { ...init, redirect: "manual" });
      let next: string | undefined;
      try {
        next = nextHop(url, method, res.type === "opaqueredirect" ? 0 : res.status, res.headers.get("location"), hops);
        if (next !== undefined && !resendable(init.body)) {
          throw new UpstreamRedirectError(res.status, "its request body cannot be sent twice");
        }
      } catch (err) {
        await res.body?.cancel().catch(() => {});
        throw err;
      }
      if (next === undefined) return res;
      await res.body?.cancel().catch(() => {});
      url = next;
    }
  };
  const guarded = "send" in fetch && typeof fetch.send === "function"
    ? Object.assign(fetchFace, { send: sameOriginTransport(fetch).send })
    : fetchFace;
  GUARDED.add(guarded);
  return guarded;
}

/** The functions {@link sameOriginFetch} made: weakly held, so no bound is needed. */
const GUARDED = new WeakSet<object>();

/**
 * Ends a proxied request whose attempt met a redirect it did not follow: every key would meet the
 * same one (it is the provider's address, not the key), so no other key is tried and none rests.
 * The client gets a 502 without the target (or an alias's next target serves); the admin log
 * says which provider to look at.
 */
export function refusedRedirect(
  d: ProxyDeps,
  c: ProxyCall,
  attempt: { keyId: string; ms: number; error: UpstreamRedirectError },
  finish: (o: RequestOutcome) => void,
): PoolError {
  const reason = attempt.error.message;
  c.trace?.attempt({ key: attempt.keyId, outcome: "client-error", ms: Math.round(attempt.ms * 10) / 10, reason });
  d.stats.attempt(c.provider.id, attempt.keyId, "client_error");
  d.onError(`[ollama-api-pool] provider "${c.provider.id}": ${reason}; check its base URL`);
  // An alias's next target may serve: that call counts the request, once.
  if (!c.fallsThrough) finish("failure");
  return new PoolError(502, "upstream_redirect", `provider "${c.provider.id}": ${reason}`);
}
