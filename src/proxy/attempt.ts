/**
 * One upstream attempt with one key: the outgoing request, the first-byte timeout, and the link
 * between the client's disconnect and the upstream request.
 * @module
 */
import type { Endpoint, Provider } from "../providers/types.ts";
import type { FetchLike } from "../types.ts";
import type { StreamTap } from "./stream.ts";

export type { FetchLike } from "../types.ts";

/**
 * A transport that already holds a response body in memory may attach it to the Response under
 * this symbol; the pool then uses those bytes instead of reading the body again. Purely an
 * optimization (reading a body through the Response API costs a web-stream round trip on Node).
 */
export const BODY_BYTES: unique symbol = Symbol.for("ollama-api-pool.body-bytes");

/**
 * Likewise for a streamed body: the very stream the Response was built with. On Node,
 * `response.body` of @hono/node-server's light Response builds a whole native Response first.
 */
export const BODY_STREAM: unique symbol = Symbol.for("ollama-api-pool.body-stream");

/**
 * A transport that attached BODY_STREAM may also offer to run the pool's stream tap inside that
 * stream: a function under this symbol, which the pool calls before the body is first read. The
 * pool then answers with that stream itself instead of wrapping it in a second one (on Node 20
 * each web stream costs a transferable object, and each layer a promise per chunk).
 */
export const BODY_TAP: unique symbol = Symbol.for("ollama-api-pool.body-tap");

/** What a transport puts under {@link BODY_TAP}. */
export type BodyTap = (tap: StreamTap) => void;

/**
 * A transport may attach the response headers under this symbol as a plain record (lowercase
 * names, one string each). The pool then copies them without building a `Headers` object, and
 * answers with a record too, which `@hono/node-server` writes without converting anything.
 */
export const HEADER_RECORD: unique symbol = Symbol.for("ollama-api-pool.header-record");

/**
 * The pool attaches `{ status, headers, body }` to the streamed answers it creates under this
 * symbol: the exact parts the Response was built from, headers as a plain record. A server
 * adapter may write those itself (adapters/node.ts does, to send headers with the first chunk)
 * instead of going through the Response API. Anything that changes such a Response's headers
 * afterwards must build a new Response (as Hono does), which carries no parts.
 */
export const RESPONSE_PARTS: unique symbol = Symbol.for("ollama-api-pool.response-parts");

/** What {@link RESPONSE_PARTS} holds. */
export interface ResponseParts {
  status: number;
  headers: Record<string, string>;
  body: ReadableStream<Uint8Array>;
}

/**
 * A server adapter may put a {@link ClientGone} function under this symbol in `env`. The proxy
 * then learns of a client leaving from it instead of from `request.signal`, which on Node costs
 * an AbortSignal (and its listeners) per request. Without it, the request's signal is used.
 */
export const CLIENT_GONE: unique symbol = Symbol.for("ollama-api-pool.client-gone");

/** Registers `listener` to be called once if the client goes away before its answer is complete. */
export type ClientGone = (listener: () => void) => void;

/** Request headers a client may pass to the upstream; everything else (auth, cookies) stays here. */
const FORWARDED = ["content-type", "accept", "accept-language", "user-agent", "openai-beta", "anthropic-version", "anthropic-beta"];

/**
 * Upstream response headers a client may see: what describes the answer (type, caching), ids to
 * quote in a support ticket, and rate-limit information. Everything else stays here: cookies,
 * `www-authenticate`, CORS headers (the pool answers for its own origin), hop headers, and
 * whatever an upstream invents (it may reflect the key).
 */
const PASSED_HEADERS = new Set([
  "content-type", "content-language", "cache-control", "expires", "etag", "last-modified", "vary",
  "retry-after", "retry-after-ms", "x-request-id", "request-id", "x-amzn-requestid", "cf-ray",
  "openai-processing-ms", "openai-version", "openai-model", "openai-organization",
]);
/** Header name prefixes passed on as well (rate-limit information). */
const PASSED_PREFIXES = ["x-ratelimit-", "ratelimit", "anthropic-ratelimit-"];

/** Whether an upstream response header `name` (lowercase) may reach the client. */
function passedHeader(name: string): boolean {
  return PASSED_HEADERS.has(name) || PASSED_PREFIXES.some((p) => name.startsWith(p));
}

/** Statuses whose responses have no body; `new Response` refuses one for them. */
export const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([204, 205, 304]);

/**
 * The error an attempt ends with when the upstream's final status is outside 200–599 (`new
 * Response` throws a RangeError for those): a failure of that attempt, like a broken connection.
 */
export function invalidStatus(status: number): Error {
  const error = new Error(`upstream answered status ${status}, outside 200-599`);
  error.name = "UpstreamStatusError";
  return error;
}

/**
 * Most (provider, secret) pairs whose authorized base headers are kept (about 200 B each). A pool
 * with more keys than this rebuilds them; the cache starts over when full, so no bookkeeping per hit.
 */
const MAX_BASE_HEADERS = 4096;
const baseHeaders = new WeakMap<Provider, Map<string, Record<string, string>>>();

/**
 * The provider's static headers plus what `authorize` sets for `secret`, as a plain record.
 * Built once per key and reused: `authorize` depends only on the secret (see Provider).
 */
function authorizedBase(provider: Provider, secret: string): Record<string, string> {
  let bySecret = baseHeaders.get(provider);
  if (!bySecret) baseHeaders.set(provider, bySecret = new Map());
  let base = bySecret.get(secret);
  if (!base) {
    const headers = new Headers(provider.headers);
    provider.authorize(headers, secret);
    base = {};
    headers.forEach((v, k) => {
      base![k] = v;
    });
    if (bySecret.size >= MAX_BASE_HEADERS) bySecret.clear();
    bySecret.set(secret, base);
  }
  return base;
}

/** What an attempt produced: the upstream response (headers arrived) or the error that ended it. */
export interface AttemptResult {
  response?: Response;
  error?: Error;
}

/** Options of {@link attemptUpstream}. */
export interface AttemptOptions {
  fetch: FetchLike;
  provider: Provider;
  endpoint: Endpoint;
  secret: string;
  clientHeaders: Headers;
  body: string | undefined;
  /** Query string of the client request, with its `?`, or "". */
  search: string;
  /**
   * Aborts this attempt's upstream request: the caller's, so that one listener for the client's
   * disconnect serves every attempt of a request.
   */
  controller: AbortController;
  firstByteTimeoutMs: number;
}

/** Sends one attempt and waits for the upstream headers, at most `firstByteTimeoutMs`. */
export async function attemptUpstream(o: AttemptOptions): Promise<AttemptResult> {
  // A plain record: `fetch` takes one as well as a Headers object, and building it costs no
  // validation per header (the base is validated once per key, client values by the server).
  const headers: Record<string, string> = { ...authorizedBase(o.provider, o.secret) };
  for (const name of FORWARDED) {
    if (headers[name] !== undefined) continue;
    const v = o.clientHeaders.get(name);
    if (v !== null) headers[name] = v;
  }

  const controller = o.controller;
  const timer = setTimeout(() => {
    controller.abort(new DOMException("upstream sent no headers in time", "TimeoutError"));
  }, o.firstByteTimeoutMs);
  try {
    const response = await o.fetch(o.endpoint.upstream + o.search, {
      method: o.endpoint.method,
      headers,
      body: o.body,
      signal: controller.signal,
    });
    if (response.status < 200 || response.status > 599) {
      await response.body?.cancel().catch(() => {});
      return { error: invalidStatus(response.status) };
    }
    return { response };
  } catch (err) {
    const error = controller.signal.aborted && controller.signal.reason instanceof Error
      ? controller.signal.reason
      : err instanceof Error ? err : new Error(String(err));
    return { error };
  } finally {
    clearTimeout(timer);
  }
}

/** One upstream response header, from the transport's record when it attached one. */
export function upstreamHeader(res: Response, name: string): string | undefined {
  const record = (res as { [HEADER_RECORD]?: Record<string, string> })[HEADER_RECORD];
  if (record) return record[name];
  return res.headers.get(name) ?? undefined;
}

/**
 * The upstream response headers a client may see (see PASSED_HEADERS), as a plain record; a
 * value that contains one of `secrets` (the key, or what was sent upstream to authorize) is
 * dropped whatever its name.
 */
export function passHeaders(upstream: Response, secrets: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const take = (v: string, k: string): void => {
    if (passedHeader(k) && !secrets.some((s) => v.includes(s))) out[k] = v;
  };
  const record = (upstream as { [HEADER_RECORD]?: Record<string, string> })[HEADER_RECORD];
  if (record) {
    for (const k in record) take(record[k], k);
  } else {
    upstream.headers.forEach(take);
  }
  return out;
}

/**
 * What an upstream could echo that would show the key: the secret itself and every value
 * `authorize` puts on the request (an encoded form, such as HTTP Basic, does not contain the
 * secret's text). Values under 8 characters are left out: they would match ordinary text, and
 * keys are at least 8 characters long.
 */
export function secretsOf(provider: Provider, secret: string): string[] {
  const base = authorizedBase(provider, secret);
  let out = secretsByBase.get(base);
  if (!out) {
    out = [secret];
    const fixed = new Headers(provider.headers);
    for (const k in base) {
      const v = base[k];
      if (v.length >= 8 && !v.includes(secret) && fixed.get(k) !== v) out.push(v);
    }
    secretsByBase.set(base, out);
  }
  return out;
}
/** secretsOf() per cached base record: computed once per key, gone with the record. */
const secretsByBase = new WeakMap<Record<string, string>, string[]>();
