/**
 * Retry across keys: pick, attempt, classify, report, and either answer or move on. The one
 * proxy path every provider and endpoint goes through.
 * @module
 */
import { PoolError } from "../errors.ts";
import type { KeyPool } from "../keys/key_pool.ts";
import { classifyDefault } from "../providers/classify.ts";
import type { ClassifyRules, Endpoint, KeyOutcome, Provider } from "../providers/types.ts";
import type { Metrics } from "../stats/metrics.ts";
import type { RequestOutcome, StatsRecorder } from "../stats/recorder.ts";
import {
  attemptUpstream, BODY_BYTES, BODY_STREAM, BODY_TAP, type BodyTap, type ClientGone, type FetchLike, passHeaders, RESPONSE_PARTS, type ResponseParts, upstreamHeader,
} from "./attempt.ts";
import type { ParsedRequest } from "./request.ts";
import { createTap, type StreamEnd, type TapOptions, tapStream } from "./stream.ts";
import { type Usage, usageOfText } from "./usage.ts";

const decoder = new TextDecoder();

/** Retry and timeout knobs of the proxy. */
export interface FailoverRules extends ClassifyRules {
  /** Upstream attempts per client request, each with a different key. */
  maxAttempts: number;
  /** How long to wait for upstream response headers before trying the next key. */
  firstByteTimeoutMs: number;
}

/** What the proxy needs from the pool. */
export interface ProxyDeps {
  fetch: FetchLike;
  rules: FailoverRules;
  stats: StatsRecorder;
  metrics: Metrics;
  now: () => number;
  onError(message: string): void;
}

/** One client request on its way to a provider. */
export interface ProxyCall {
  provider: Provider;
  keys: KeyPool;
  endpoint: Endpoint;
  request: ParsedRequest;
  headers: Headers;
  search: string;
  /** Tells when the client goes away: the upstream request in flight is then aborted. */
  onClientGone?: ClientGone;
  tokenId?: string;
  /** Told the usage of the finished request (for token limits). */
  onUsage?(usage: Usage): void;
  /** Called when the request is over — for streams, when the stream ends, after the handler returned. */
  onFinish?(): void;
  /** `performance.now()` when the pool got the request, for `x-pool-overhead-ms`. */
  startedAt?: number;
  /** Milliseconds spent waiting on upstream so far (filled in here). */
  upstreamMs?: number;
}

/** Sends the call upstream, rotating keys on key-level failures (the request path in docs/ARCHITECTURE.md). */
export async function proxyWithFailover(d: ProxyDeps, c: ProxyCall): Promise<Response> {
  const tried = new Set<string>();
  let lastReason = "";
  let rateLimitedOnly = true;
  let retryAfterMs: number | undefined;
  const finish = (outcome: RequestOutcome, usage?: Usage, keyId?: string): void => {
    d.stats.request({ provider: c.provider.id, model: c.request.model, tokenId: c.tokenId, keyId, outcome, ...usage });
    if (usage) c.onUsage?.(usage);
    c.onFinish?.();
  };

  // One listener per request, whatever the number of attempts: it aborts the one in flight.
  let gone = false;
  let current: AbortController | undefined;
  c.onClientGone?.(() => {
    gone = true;
    current?.abort(new DOMException("client closed the request", "AbortError"));
  });

  for (let i = 0; i < d.rules.maxAttempts && !gone; i++) {
    const key = c.keys.pick(tried);
    if (!key) break;
    tried.add(key.id);
    const sentAt = performance.now();
    const controller = current = new AbortController();
    const result = await attemptUpstream({
      fetch: d.fetch,
      provider: c.provider,
      endpoint: c.endpoint,
      secret: key.secret,
      clientHeaders: c.headers,
      body: c.request.body,
      search: c.search,
      controller,
      firstByteTimeoutMs: d.rules.firstByteTimeoutMs,
    });
    const waited = performance.now() - sentAt;
    c.upstreamMs = (c.upstreamMs ?? 0) + waited;
    d.metrics.upstream(c.provider.id, waited);
    if (gone) {
      // The client left: nobody reads this answer and no key is to blame.
      await result.response?.body?.cancel().catch(() => {});
      throw new PoolError(499, "client_closed", "client closed the request");
    }
    const res = result.response ?? result.error!;
    const outcome: KeyOutcome = c.provider.classify?.(res, d.rules) ?? classifyDefault(res, d.rules, d.now());
    c.keys.report(key.id, outcome);
    d.stats.attempt(c.provider.id, key.id, outcome.kind === "ok" ? "success" : outcome.kind === "client-error" ? "client_error" : "failure");

    if (result.response && outcome.kind === "ok") {
      const done = await answer(d, c, key.id, result.response, controller, finish);
      if (done) return done;
      // Headers came, the body did not: as good as a connection error.
      c.keys.report(key.id, { kind: "cooldown", ms: d.rules.errorCooldownMs, reason: "upstream body failed" });
      rateLimitedOnly = false;
      lastReason = "upstream closed the connection while sending the body";
      continue;
    }
    if (result.response && outcome.kind === "client-error") {
      // The caller's own mistake (400/404/422): its body explains it, so it goes back as it is.
      finish("client_error");
      const headers = passHeaders(result.response);
      overheadHeader(d, c, headers);
      return new Response(result.response.body, { status: result.response.status, headers });
    }
    await result.response?.body?.cancel().catch(() => {});
    if (outcome.kind === "cooldown" && outcome.rateLimited) {
      if (outcome.retryAfterMs !== undefined) retryAfterMs = Math.min(retryAfterMs ?? Infinity, outcome.retryAfterMs);
    } else {
      rateLimitedOnly = false;
    }
    lastReason = outcome.kind === "failure" || outcome.kind === "cooldown" ? outcome.reason : lastReason;
  }

  if (gone) throw new PoolError(499, "client_closed", "client closed the request");
  finish("failure");
  throw exhausted(d, c, tried, lastReason, rateLimitedOnly, retryAfterMs);
}

/** The error for a request no key could serve. */
function exhausted(
  d: ProxyDeps, c: ProxyCall, tried: Set<string>, lastReason: string, rateLimitedOnly: boolean, retryAfterMs?: number,
): PoolError {
  const id = c.provider.id;
  if (tried.size === 0) {
    if (c.keys.size === 0) return new PoolError(503, "no_keys", `no upstream keys are configured for provider "${id}"`);
    const wake = c.keys.nextWake();
    if (wake === undefined) return new PoolError(503, "no_active_keys", `every upstream key of provider "${id}" is disabled`);
    const seconds = Math.max(1, Math.ceil((wake - d.now()) / 1000));
    const headers = { "retry-after": String(seconds) };
    // Keys resting after rate limits or errors mean "come back soon" (429); only disabled keys
    // resting until a re-try mean the pool itself is unavailable (503).
    if (c.keys.counts().cooling > 0) {
      return new PoolError(429, "keys_cooling_down", `every upstream key of provider "${id}" is resting; retry in ${seconds} s`, { headers });
    }
    return new PoolError(503, "no_active_keys", `every upstream key of provider "${id}" is disabled; the first is re-tried in ${seconds} s`, { headers });
  }
  if (rateLimitedOnly) {
    // A pool-wide limit: every key tried got 429. None is disabled, and they cool only for what
    // the upstream asked (or briefly when it did not say), so the pool recovers with the upstream.
    const ms = retryAfterMs ?? d.rules.errorCooldownMs;
    for (const keyId of tried) c.keys.report(keyId, { kind: "cooldown", ms, reason: "upstream rate limit", rateLimited: true });
    const seconds = Math.max(1, Math.ceil(ms / 1000));
    return new PoolError(429, "upstream_rate_limited", `every upstream key tried for provider "${id}" is rate limited; retry in ${seconds} s`, {
      headers: { "retry-after": String(seconds) },
    });
  }
  return new PoolError(503, "upstream_unavailable", `all ${tried.size} upstream attempts failed; last: ${lastReason}`);
}

/** A successful upstream answer: streams are tapped, bodies read for usage; undefined if the body broke. */
async function answer(
  d: ProxyDeps, c: ProxyCall, keyId: string, res: Response, upstream: AbortController,
  finish: (o: RequestOutcome, u?: Usage, keyId?: string) => void,
): Promise<Response | undefined> {
  const headers = passHeaders(res);
  const type = upstreamHeader(res, "content-type") ?? "";
  // The type first: on Node, `res.body` of a buffered answer would build a web stream for nothing.
  const stream = type.includes("text/event-stream") || type.includes("ndjson")
    ? (res as { [BODY_STREAM]?: ReadableStream<Uint8Array> })[BODY_STREAM] ?? res.body
    : null;
  if (stream) {
    overheadHeader(d, c, headers);
    d.metrics.streamOpened();
    const tapOptions: TapOptions = {
      format: c.endpoint.format,
      dropUsageChunk: c.request.injectedUsage && type.includes("text/event-stream"),
      abortUpstream: () => upstream.abort(),
      onEnd: (end: StreamEnd) => {
        d.metrics.streamClosed();
        if (end.kind === "error") {
          d.onError(`[ollama-api-pool] stream from key ${keyId} of "${c.provider.id}" failed mid-way`);
          c.keys.report(keyId, { kind: "cooldown", ms: d.rules.errorCooldownMs, reason: "stream failed mid-way" });
        }
        finish(end.kind === "error" ? "failure" : "success", end.usage, keyId);
      },
    };
    // The transport's own stream runs the tap when it offers to; else a tapped stream wraps it.
    const install = (res as { [BODY_TAP]?: BodyTap })[BODY_TAP];
    const own = (res as { [BODY_STREAM]?: ReadableStream<Uint8Array> })[BODY_STREAM];
    let body: ReadableStream<Uint8Array>;
    if (install && own === stream) {
      install(createTap(tapOptions));
      body = stream;
    } else {
      body = tapStream(stream, tapOptions);
    }
    const response = new Response(body, { status: res.status, headers });
    const parts: ResponseParts = { status: res.status, headers, body };
    (response as { [RESPONSE_PARTS]?: ResponseParts })[RESPONSE_PARTS] = parts;
    return response;
  }
  let bytes: Uint8Array<ArrayBuffer>;
  const readAt = performance.now();
  try {
    bytes = (res as { [BODY_BYTES]?: Uint8Array<ArrayBuffer> })[BODY_BYTES] ?? new Uint8Array(await res.arrayBuffer());
  } catch {
    return undefined;
  } finally {
    c.upstreamMs = (c.upstreamMs ?? 0) + performance.now() - readAt;
  }
  const usage = type.includes("json") ? usageOfText(c.endpoint.format, decoder.decode(bytes)) : undefined;
  finish("success", usage, keyId);
  overheadHeader(d, c, headers);
  return new Response(bytes, { status: res.status, headers });
}

/** `x-pool-overhead-ms`: the time this request spent in the pool, upstream waits excluded. */
function overheadHeader(d: ProxyDeps, c: ProxyCall, headers: Record<string, string>): void {
  if (c.startedAt === undefined) return;
  const ms = Math.max(0, performance.now() - c.startedAt - (c.upstreamMs ?? 0));
  d.metrics.overhead(ms);
  headers["x-pool-overhead-ms"] = ms.toFixed(3);
}
