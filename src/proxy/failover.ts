/**
 * Retry across keys: pick, attempt, classify, report, and either answer or move on. The one
 * proxy path every provider and endpoint goes through.
 * @module
 */
import { PoolError } from "../errors.ts";
import type { LogAttempt } from "../logs/types.ts";
import { classifyDefault } from "../providers/classify.ts";
import { bodyForClassify, type KeyOutcome } from "../providers/types.ts";
import type { RequestOutcome } from "../stats/recorder.ts";
import { answer, clientError, overheadHeader } from "./answer.ts";
import { attemptUpstream, secretsOf } from "./attempt.ts";
import type { ModelMissing, ProxyCall, ProxyDeps } from "./call.ts";
import { readErrorBody } from "./error_body.ts";
import { exhausted, serverErrorTwice } from "./exhausted.ts";
import { refusedRedirect, UpstreamRedirectError } from "./redirects.ts";
import { answerView, discardAnswer } from "./transport.ts";
import { estimateUsage, type Usage } from "./usage.ts";

export type { FailoverRules, ProxyCall, ProxyDeps } from "./call.ts";

/**
 * Keys asked per request beyond `maxAttempts` when they answer "model not found": such an answer
 * costs the key nothing, so it does not use up an attempt, but the detours are bounded too.
 */
const MAX_MODEL_DETOURS = 8;

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
  const finish = (
    outcome: RequestOutcome,
    usage?: Usage,
    keyId?: string,
    sent: { lines?: number; bytes?: number } = {},
  ): void => {
    let estimated = false;
    if (usage?.rejected) d.metrics.usageRejected(c.provider.id, usage.rejected);
    if (c.clientClosed || outcome === "client_closed") {
      outcome = "client_closed";
      // Charged only when an upstream had the request (a client gone before any attempt cost nothing).
      if (tried.size > 0) {
        const guess = estimateUsage(c.endpoint.format, c.request.body, sent.lines ?? 0);
        if (!usage) (usage = guess, estimated = true);
        else if (usage.completionTokens < guess.completionTokens) {
          // Usage reported early and final later (Anthropic's message_start says 1 output token):
          // a client leaving before the final report pays for what it was sent.
          (usage = { ...usage, completionTokens: guess.completionTokens }, estimated = true);
        }
      }
    }
    if (keyId) d.stats.attempt(c.provider.id, keyId, outcome);
    d.stats.request({
      provider: c.provider.id,
      model: c.request.model,
      alias: c.alias,
      tokenId: c.tokenId,
      keyId,
      outcome,
      ...usage,
      estimated,
    });
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
    if (result.error instanceof UpstreamRedirectError) {
      settleHeld(true);
      throw refusedRedirect(d, c, { keyId: key.id, ms: waited, error: result.error }, finish);
    }
    const upstream = result.answer;
    // The provider hook's contract is a standard Response: the status and headers, without the body.
    const res = upstream ? answerView(upstream) : result.error!;
    // Bodies the pool discards anyway are read (bounded) first: some reasons are only there.
    const body = upstream && bodyForClassify(upstream.status) ? await readErrorBody(upstream) : undefined;
    if (gone) throw clientClosed(key.id);
    const now = d.now();
    const outcome: KeyOutcome = c.provider.classify?.(res, d.rules, { now, body }) ??
      classifyDefault(res, d.rules, now);
    const logged: LogAttempt = {
      key: key.id,
      outcome: outcome.kind,
      ms: Math.round(waited * 10) / 10,
      ...(upstream ? { status: upstream.status } : {}),
      ...(outcome.kind === "failure" || outcome.kind === "cooldown" ? { reason: outcome.reason } : {}),
    };
    c.trace?.attempt(logged);
    const status = upstream?.status ?? 0;
    const serverError = status >= 500 && outcome.kind === "cooldown" && outcome.cap === undefined &&
      !outcome.rateLimited;
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
      if (outcome.kind !== "ok") {
        d.stats.attempt(c.provider.id, key.id, outcome.kind === "client-error" ? "client_error" : "failure");
      }
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
  if (notFound && c.fallsThrough) {
    throw new PoolError(
      404,
      "model_not_found",
      `no key of provider "${c.provider.id}" serves model "${c.request.model}"`,
    );
  }
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
