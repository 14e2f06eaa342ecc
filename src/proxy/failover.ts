/**
 * Retry across keys: pick, attempt, classify, report, and either answer or move on. The one
 * proxy path every provider and endpoint goes through.
 * @module
 */
import { PoolError } from "../errors.ts";
import type { KeyPool } from "../keys/key_pool.ts";
import { classifyDefault } from "../providers/classify.ts";
import { bodyForClassify, type ClassifyRules, type Endpoint, type KeyOutcome, type Provider } from "../providers/types.ts";
import type { Metrics } from "../stats/metrics.ts";
import type { RequestOutcome, StatsRecorder } from "../stats/recorder.ts";
import { attemptUpstream, passHeaders, secretsOf } from "./attempt.ts";
import { type BodyDriver, type BodyTarget, driveBody, drivenStream, stoppable } from "./body_stream.ts";
import { type ClientGone, markStreamed } from "./server_link.ts";
import { answerView, discardAnswer, sourceOf, type Transport, type UpstreamAnswer } from "./transport.ts";
import type { RequestTrace } from "../logs/trace.ts";
import type { LogAttempt } from "../logs/types.ts";
import { bufferedBody, needlesFor, type ResponseLimits } from "./body.ts";
import { isModelMissing } from "./model_missing.ts";
import type { ParsedRequest } from "./request.ts";
import { createTap, type StreamEnd } from "./stream.ts";
import { readErrorBody } from "./error_body.ts";
import { estimateUsage, type Usage } from "./usage.ts";

const decoder = new TextDecoder();

/** Retry and timeout knobs of the proxy. */
export interface FailoverRules extends ClassifyRules {
  /** Upstream attempts per client request, each with a different key. */
  maxAttempts: number;
  /** How long to wait for upstream response headers before trying the next key. */
  firstByteTimeoutMs: number;
  /** How long a key that answered "model not found" is not asked for that model again. */
  modelUnavailableMs: number;
}

/**
 * Keys asked per request beyond `maxAttempts` when they answer "model not found": such an answer
 * costs the key nothing, so it does not use up an attempt, but the detours are bounded too.
 */
const MAX_MODEL_DETOURS = 8;

/** A key's "model not found" answer, kept to be the client's if no other key has the model. */
interface ModelMissing {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer>;
}

/** What the proxy needs from the pool. */
export interface ProxyDeps {
  transport: Transport;
  rules: FailoverRules;
  limits: ResponseLimits;
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
  /** The model alias the client asked for, when `request.model` is one of its targets (statistics count both). */
  alias?: string;
  /**
   * Another alias target follows: when no key here can serve, the error is thrown uncounted (the
   * next target's call counts the request, once).
   */
  fallsThrough?: boolean;
  /** Told the usage of the finished request (for token limits). */
  onUsage?(usage: Usage): void;
  /** Called when the request is over — for streams, when the stream ends, after the handler returned. */
  onFinish?(): void;
  /** `performance.now()` when the pool got the request, for `x-pool-overhead-ms`. */
  startedAt?: number;
  /** Milliseconds spent waiting on upstream so far (filled in here). */
  upstreamMs?: number;
  /** The request's id, sent back as `x-request-id`. */
  requestId?: string;
  /** The request's log record under way: told each attempt and the end of the answer. */
  trace?: RequestTrace;
  /** Set here once the client has gone away: what fails after that is not the upstream's doing. */
  clientClosed?: boolean;
}

/** Sends the call upstream, rotating keys on key-level failures (the request path in docs/ARCHITECTURE.md). */
export async function proxyWithFailover(d: ProxyDeps, c: ProxyCall): Promise<Response> {
  const tried = new Set<string>();
  let lastReason = "";
  let rateLimitedOnly = true;
  let retryAfterMs: number | undefined;
  /** Keys that answered with a usage cap: they rest until their reset, whatever else happens. */
  const capped = new Set<string>();
  /**
   * A 5xx answer whose key is not rested yet: one 5xx cannot tell a broken account from a request
   * the upstream fails whatever the key (OpenRouter answers 500/502 per model), so the verdict
   * waits for the next key's answer. Another key answering otherwise: the key is rested as any
   * 5xx rests it. Another 5xx: the request is at fault, neither key rests (see serverErrorTwice).
   */
  let held: { keyId: string; outcome: KeyOutcome; status: number; logged: LogAttempt } | undefined;
  /** Rests the held key now (`rest: false`: only counts its attempt, for a client that left). */
  const settleHeld = (rest: boolean): void => {
    if (!held) return;
    if (rest) c.keys.report(held.keyId, held.outcome);
    d.stats.attempt(c.provider.id, held.keyId, "failure");
    held = undefined;
  };
  /**
   * Counts the request, and the attempt of the key that answered (`keyId`) now that its outcome
   * is known. A client that left makes it `client_closed` and, without usage from the upstream,
   * is charged the estimate of what it cost (`lines`: line breaks streamed so far). `bytes`: the
   * answer's size, for the request log.
   */
  const finish = (outcome: RequestOutcome, usage?: Usage, keyId?: string, sent: { lines?: number; bytes?: number } = {}): void => {
    let estimated = false;
    if (usage?.rejected) d.metrics.usageRejected(c.provider.id, usage.rejected);
    if (c.clientClosed || outcome === "client_closed") {
      outcome = "client_closed";
      // Charged only when an upstream had the request (a client gone before any attempt cost nothing).
      if (!usage && tried.size > 0) (usage = estimateUsage(c.endpoint.format, c.request.body, sent.lines ?? 0), estimated = true);
    }
    if (keyId) d.stats.attempt(c.provider.id, keyId, outcome);
    d.stats.request({ provider: c.provider.id, model: c.request.model, alias: c.alias, tokenId: c.tokenId, keyId, outcome, ...usage, estimated });
    if (usage) c.onUsage?.(usage);
    c.trace?.ended({ ...usage, estimated, bytes: sent.bytes, outcome });
    c.onFinish?.();
  };
  const clientClosed = (keyId?: string): PoolError => {
    settleHeld(false); // a client that left never gets a key rested on one 5xx's word
    finish("client_closed", undefined, keyId);
    return new PoolError(499, "client_closed", "client closed the request");
  };

  // One listener per request, whatever the number of attempts: it aborts the one in flight.
  let gone = false;
  let current: AbortController | undefined;
  c.onClientGone?.(() => {
    gone = c.clientClosed = true;
    current?.abort(new DOMException("client closed the request", "AbortError"));
  });

  let notFound: ModelMissing | undefined;
  let detours = 0;
  for (let i = 0; i < d.rules.maxAttempts && !gone; i++) {
    const key = c.keys.pick(tried, c.request.model);
    if (!key) break;
    tried.add(key.id);
    const sentAt = performance.now();
    const controller = current = new AbortController();
    const result = await attemptUpstream({
      transport: d.transport,
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
      // The client left: nobody reads this answer and no key is to blame, but the upstream had
      // the request, so it counts (and is charged).
      c.trace?.attempt({ key: key.id, outcome: "client_closed", ms: Math.round(waited * 10) / 10 });
      if (result.answer) discardAnswer(result.answer);
      throw clientClosed(key.id);
    }
    const upstream = result.answer;
    // The provider hook's contract is a standard Response: the status and headers, without the body.
    const res = upstream ? answerView(upstream) : result.error!;
    // Bodies the pool discards anyway are read (bounded) first: some reasons are only there.
    const body = upstream && bodyForClassify(upstream.status) ? await readErrorBody(upstream) : undefined;
    if (gone) throw clientClosed(key.id);
    const now = d.now();
    const outcome: KeyOutcome = c.provider.classify?.(res, d.rules, { now, body }) ?? classifyDefault(res, d.rules, now);
    const logged: LogAttempt = {
      key: key.id,
      outcome: outcome.kind,
      ms: Math.round(waited * 10) / 10,
      ...(upstream ? { status: upstream.status } : {}),
      ...(outcome.kind === "failure" || outcome.kind === "cooldown" ? { reason: outcome.reason } : {}),
    };
    c.trace?.attempt(logged);
    const status = upstream?.status ?? 0;
    const serverError = status >= 500 && outcome.kind === "cooldown" && outcome.cap === undefined && !outcome.rateLimited;
    if (serverError && held) {
      if (upstream) discardAnswer(upstream);
      throw serverErrorTwice(d, c, held, { keyId: key.id, status, logged }, finish);
    }
    // Any other answer from a key: the held 5xx was that key's own.
    if (upstream) settleHeld(true);
    if (serverError) {
      held = { keyId: key.id, outcome, status, logged };
    } else {
      c.keys.report(key.id, outcome);
      // An answer's attempt counts once its body is through (in finish): a 200 whose body then
      // breaks is no success of the key.
      if (outcome.kind !== "ok") d.stats.attempt(c.provider.id, key.id, outcome.kind === "client-error" ? "client_error" : "failure");
    }

    const secrets = secretsOf(c.provider, key.secret);
    if (upstream && (outcome.kind === "ok" || outcome.kind === "client-error")) {
      const done = outcome.kind === "ok"
        ? await answer(d, c, key.id, upstream, controller, secrets, finish)
        : await clientError(d, c, upstream, secrets, finish);
      if (done instanceof Response) return done;
      // The client left while the body was arriving: the body failed because of that. (A
      // client-error answer's attempt is counted already.)
      if (gone) throw clientClosed(outcome.kind === "ok" ? key.id : undefined);
      if (typeof done === "object") {
        // "Model not found" from one key: that key cannot use this model; another may.
        c.keys.markModelUnavailable(key.id, c.request.model!, d.rules.modelUnavailableMs);
        notFound = done.modelMissing;
        if (detours++ < MAX_MODEL_DETOURS) i--;
        continue;
      }
      if (outcome.kind === "ok") d.stats.attempt(c.provider.id, key.id, "failure");
      // Headers came, the body did not: as good as a connection error.
      c.keys.report(key.id, { kind: "cooldown", ms: d.rules.errorCooldownMs, reason: "upstream body failed" });
      c.trace?.amendLast({ outcome: "cooldown", reason: done });
      rateLimitedOnly = false;
      lastReason = done;
      continue;
    }
    if (upstream) discardAnswer(upstream);
    if (outcome.kind === "cooldown" && outcome.cap !== undefined) {
      capped.add(key.id);
    } else if (outcome.kind === "cooldown" && outcome.rateLimited) {
      if (outcome.retryAfterMs !== undefined) retryAfterMs = Math.min(retryAfterMs ?? Infinity, outcome.retryAfterMs);
    } else {
      rateLimitedOnly = false;
    }
    lastReason = outcome.kind === "failure" || outcome.kind === "cooldown" ? outcome.reason : lastReason;
  }

  if (gone) throw clientClosed();
  settleHeld(true); // no second key answered: the one 5xx is all there is to go by
  if (notFound && c.fallsThrough) throw new PoolError(404, "model_not_found", `no key of provider "${c.provider.id}" serves model "${c.request.model}"`);
  if (notFound) {
    // A key said the model is not there and no key answered otherwise: that 404 is the one
    // definite thing known (keys that failed or rested said nothing about the model).
    finish("client_error", undefined, undefined, { bytes: notFound.body.byteLength });
    overheadHeader(d, c, notFound.headers);
    return new Response(notFound.body, { status: notFound.status, headers: notFound.headers });
  }
  const error = exhausted(d, c, tried, lastReason, rateLimitedOnly, capped, retryAfterMs);
  if (c.fallsThrough) throw error;
  finish(error.code === "model_not_found" ? "client_error" : "failure"); // a model no key has is the caller's mistake
  throw error;
}

/**
 * A second key answered 5xx to the same request: the request is at fault (a model or parameters
 * the upstream fails on, whatever the key), not the keys. Neither key rests, so a client sending
 * such requests cannot take healthy keys out of rotation, and no further key is tried (that would
 * only spread the same failure). Both attempts count as the caller's error on their keys.
 */
function serverErrorTwice(
  d: ProxyDeps, c: ProxyCall, first: { keyId: string; status: number; logged: LogAttempt },
  second: { keyId: string; status: number; logged: LogAttempt }, finish: (o: RequestOutcome) => void,
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
function exhausted(
  d: ProxyDeps, c: ProxyCall, tried: Set<string>, lastReason: string, rateLimitedOnly: boolean, capped: Set<string>, retryAfterMs?: number,
): PoolError {
  const id = c.provider.id;
  if (tried.size === 0) {
    if (c.keys.size === 0) return new PoolError(503, "no_keys", `no upstream keys are configured for provider "${id}"`);
    if (c.request.model !== undefined && c.keys.counts().active > 0) {
      return new PoolError(404, "model_not_found", `no key of provider "${id}" serves model "${c.request.model}"`);
    }
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
  if (c.request.model !== undefined && c.keys.models.lacked(c.request.model, d.now())) {
    // Keys that could have the model failed; others said they lack it: the definite answer wins.
    return new PoolError(404, "model_not_found", `no key of provider "${id}" that was asked serves model "${c.request.model}"`);
  }
  if (rateLimitedOnly && capped.size === tried.size) {
    // Every account tried used up its allowance: each rests until its own reset. The client may
    // come back when the first key wakes (or at once, if keys not tried here are ready).
    const wake = c.keys.counts().active > 0 ? d.now() : c.keys.nextWake() ?? d.now();
    const seconds = Math.max(1, Math.ceil((wake - d.now()) / 1000));
    return new PoolError(429, "upstream_usage_limited", `every upstream key tried for provider "${id}" has reached a usage limit (last: ${lastReason}); retry in ${seconds} s`, {
      headers: { "retry-after": String(seconds) },
    });
  }
  if (rateLimitedOnly) {
    // A pool-wide limit: every key tried got 429. None is disabled, and they cool only for what
    // the upstream asked (or briefly when it did not say), so the pool recovers with the upstream.
    // Keys that reported a usage cap are not part of it: they keep resting until their reset.
    // (Not marked rateLimited: the key's own 429 already counted toward its back-off.)
    const ms = retryAfterMs ?? d.rules.errorCooldownMs;
    for (const keyId of tried) if (!capped.has(keyId)) c.keys.report(keyId, { kind: "cooldown", ms, reason: "upstream rate limit" });
    const seconds = Math.max(1, Math.ceil(ms / 1000));
    return new PoolError(429, "upstream_rate_limited", `every upstream key tried for provider "${id}" is rate limited; retry in ${seconds} s`, {
      headers: { "retry-after": String(seconds) },
    });
  }
  return new PoolError(503, "upstream_unavailable", `all ${tried.size} upstream attempts failed; last: ${lastReason}`);
}

/**
 * The caller's own mistake (400/404/422): its body explains it, so it goes back, without the key.
 * A 404 about the model of the request is the key's account lacking it: handed back to the loop
 * (`modelMissing`), unfinished, so another key can be asked.
 */
async function clientError(
  d: ProxyDeps, c: ProxyCall, res: UpstreamAnswer, secrets: string[],
  finish: (o: RequestOutcome, u?: Usage, keyId?: string, sent?: { lines?: number; bytes?: number }) => void,
): Promise<Response | string | { modelMissing: ModelMissing }> {
  const headers = passHeaders(res.headers, secrets);
  const body = await bufferedBody(d.limits, res, secrets, () => finish("failure"));
  if (typeof body === "string") return body;
  if (res.status === 404 && c.request.model !== undefined && body && isModelMissing(body)) {
    return { modelMissing: { status: res.status, headers, body } };
  }
  finish("client_error", undefined, undefined, { bytes: body?.byteLength ?? 0 });
  overheadHeader(d, c, headers);
  return new Response(body, { status: res.status, headers });
}

/**
 * A successful upstream answer: streams are tapped, bodies read for usage. A string (why) when
 * the body broke or stalled before anything reached the client.
 */
async function answer(
  d: ProxyDeps, c: ProxyCall, keyId: string, res: UpstreamAnswer, upstream: AbortController, secrets: string[],
  finish: (o: RequestOutcome, u?: Usage, keyId?: string, sent?: { lines?: number; bytes?: number }) => void,
): Promise<Response | string> {
  const headers = passHeaders(res.headers, secrets);
  const type = res.headers["content-type"] ?? "";
  const body = type.includes("text/event-stream") || type.includes("ndjson") ? sourceOf(res) : undefined;
  if (body) {
    // A stall ends the body here too, not only through the abort: a runtime's fetch may leave a
    // read pending after the abort (Node's, with a corrupt gzip body).
    const source = stoppable(body);
    overheadHeader(d, c, headers);
    d.metrics.streamOpened();
    const tap = createTap({
      format: c.endpoint.format,
      dropUsageChunk: c.request.injectedUsage && type.includes("text/event-stream"),
      abortUpstream: (reason) => {
        if (reason) source.stop(reason);
        upstream.abort(reason);
      },
      idleTimeoutMs: d.limits.streamIdleTimeoutMs,
      secrets: needlesFor(secrets),
      onEnd: (end: StreamEnd) => {
        d.metrics.streamClosed();
        // A stream that breaks after its client left broke because of that: no key is blamed.
        if (end.kind === "error" && !c.clientClosed) {
          d.onError(`[ollama-api-pool] stream from key ${keyId} of "${c.provider.id}" failed mid-way`);
          c.keys.report(keyId, { kind: "cooldown", ms: d.rules.errorCooldownMs, reason: "stream failed mid-way" });
          c.trace?.amendLast({ outcome: "cooldown", reason: "stream failed mid-way" });
        }
        const outcome = end.kind === "done" ? "success" : end.kind === "error" ? "failure" : "client_closed";
        finish(outcome, end.usage, keyId, { lines: end.lines, bytes: end.bytes });
      },
    });
    const stream = drivenStream(source, tap);
    const drive = (target: BodyTarget): BodyDriver => driveBody(source, tap, target);
    return markStreamed(new Response(stream, { status: res.status, headers }), { status: res.status, headers, body: stream, drive });
  }
  const readAt = performance.now();
  let bytes: Uint8Array<ArrayBuffer> | null | string;
  try {
    bytes = await bufferedBody(d.limits, res, secrets, () => finish("failure", undefined, keyId));
  } finally {
    c.upstreamMs = (c.upstreamMs ?? 0) + performance.now() - readAt;
  }
  if (typeof bytes === "string") return bytes;
  const usage = bytes && type.includes("json") ? c.endpoint.format.usageOfText(decoder.decode(bytes)) : undefined;
  finish("success", usage, keyId, { bytes: bytes?.byteLength ?? 0 });
  overheadHeader(d, c, headers);
  return new Response(bytes, { status: res.status, headers });
}

/**
 * The pool's own answer headers: `x-request-id`, and `x-pool-overhead-ms`, the time this request
 * spent in the pool, upstream waits excluded.
 */
function overheadHeader(d: ProxyDeps, c: ProxyCall, headers: Record<string, string>): void {
  if (c.requestId !== undefined) {
    // The upstream's own id stays available under another name: it is what its support asks for.
    const upstreamId = headers["x-request-id"];
    if (upstreamId !== undefined) headers["x-upstream-request-id"] = upstreamId;
    headers["x-request-id"] = c.requestId;
  }
  if (c.startedAt === undefined) return;
  const ms = Math.max(0, performance.now() - c.startedAt - (c.upstreamMs ?? 0));
  d.metrics.overhead(ms);
  headers["x-pool-overhead-ms"] = ms.toFixed(3);
}
