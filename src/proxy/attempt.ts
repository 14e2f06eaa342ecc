/**
 * One upstream attempt with one key: the outgoing request, the first-byte timeout, and the link
 * between the client's disconnect and the upstream request.
 * @module
 */
import type { Endpoint, Provider } from "../providers/types.ts";
import { needlesFor } from "./body.ts";
import { redactBytes } from "./redact.ts";
import { discardAnswer, invalidStatus, type Transport, type UpstreamAnswer } from "./transport.ts";

// Older import site of these names (the contract now lives in transport.ts).
export { type FetchLike, invalidStatus, NULL_BODY_STATUSES } from "./transport.ts";

/** Request headers a client may pass to the upstream; everything else (auth, cookies) stays here. */
const FORWARDED = [
  "content-type",
  "accept",
  "accept-language",
  "user-agent",
  "openai-beta",
  "anthropic-version",
  "anthropic-beta",
];

/**
 * Upstream response headers a client may see: what describes the answer (type, caching), ids to
 * quote in a support ticket, and rate-limit information. Everything else stays here: cookies,
 * `www-authenticate`, CORS headers (the pool answers for its own origin), hop headers, and
 * whatever an upstream invents (it may reflect the key).
 */
const PASSED_HEADERS = new Set([
  "content-type",
  "content-language",
  "cache-control",
  "expires",
  "etag",
  "last-modified",
  "vary",
  "retry-after",
  "retry-after-ms",
  "x-request-id",
  "request-id",
  "x-amzn-requestid",
  "cf-ray",
  "openai-processing-ms",
  "openai-version",
  "openai-model",
  "openai-organization",
]);
/** Header name prefixes passed on as well (rate-limit information). */
const PASSED_PREFIXES = ["x-ratelimit-", "ratelimit", "anthropic-ratelimit-"];

/** Whether an upstream response header `name` (lowercase) may reach the client. */
function passedHeader(name: string): boolean {
  return PASSED_HEADERS.has(name) || PASSED_PREFIXES.some((p) => name.startsWith(p));
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

/** What an attempt produced: the upstream answer (headers arrived) or the error that ended it. */
export interface AttemptResult {
  answer?: UpstreamAnswer;
  error?: Error;
}

/** Options of {@link attemptUpstream}. */
export interface AttemptOptions {
  transport: Transport;
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
  // A plain record, no `Headers`: no validation per header (the base is validated once per key,
  // client values by the server).
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
    const send = () =>
      o.transport.send(o.endpoint.upstream + o.search, {
        method: o.endpoint.method,
        headers,
        body: o.body,
        signal: controller.signal,
      });
    let answer: UpstreamAnswer | undefined;
    // An idle keep-alive connection the upstream (or a load balancer) closed just as it was
    // reused resets before any answer. That says nothing about the key: send again, which takes
    // another connection, before it counts as a failure. Several idle connections can be stale
    // at once (they timed out together), hence more than one retry; bounded, since an upstream
    // that resets every connection costs this many connects per attempt.
    for (let retry = 0; answer === undefined; retry++) {
      try {
        answer = await send();
      } catch (err) {
        if (retry >= MAX_RESET_RETRIES || controller.signal.aborted || !connectionReset(err)) throw err;
      }
    }
    // The contract says send() throws for these; a transport that does not still fails the attempt.
    if (answer.status < 200 || answer.status > 599) {
      discardAnswer(answer);
      return { error: invalidStatus(answer.status) };
    }
    return { answer };
  } catch (err) {
    const error = controller.signal.aborted && controller.signal.reason instanceof Error
      ? controller.signal.reason
      : err instanceof Error
      ? err
      : new Error(String(err));
    return { error };
  } finally {
    clearTimeout(timer);
  }
}

/** Sends again after a connection reset before the answer, at most (see attemptUpstream). */
const MAX_RESET_RETRIES = 3;

/** Error codes of a connection that closed before any answer: on a reused one, a keep-alive race. */
const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);

/** Whether `err` (or its cause, as `fetch` wraps it) is a connection reset before the answer. */
export function connectionReset(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const code = (e as Error & { code?: unknown }).code;
    if (typeof code === "string" && RESET_CODES.has(code)) return true;
  }
  return false;
}

/**
 * The upstream response headers a client may see (see PASSED_HEADERS); a value that shows one of
 * `secrets` (the key, or what was sent upstream to authorize) is dropped whatever its name. It
 * shows one in any form body redaction finds (JSON escapes included), and also once or twice
 * percent-decoded: headers carry URLs.
 */
export function passHeaders(upstream: Record<string, string>, secrets: readonly string[] = []): Record<string, string> {
  const needles = secrets.length ? needlesFor(secrets as string[]) : [];
  const out: Record<string, string> = {};
  for (const k in upstream) {
    const v = upstream[k];
    if (passedHeader(k) && (needles.length === 0 || !showsSecret(v, needles))) out[k] = v;
  }
  return out;
}

const headerEncoder = new TextEncoder();
const PERCENT_ESCAPE = /%([0-9a-fA-F]{2})/g;

/** `text` with `%XX` decoded: as UTF-8 when the escapes form it, else each as its own byte value. */
function percentDecoded(text: string): string {
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text.replace(PERCENT_ESCAPE, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
}

function showsSecret(value: string, needles: readonly Uint8Array[]): boolean {
  for (let text = value, round = 0; round < 3; round++) {
    const bytes = headerEncoder.encode(text);
    if (redactBytes(bytes, needles) !== bytes) return true; // redactBytes returns its input when nothing matched
    const decoded = percentDecoded(text);
    if (decoded === text) return false;
    text = decoded;
  }
  return false;
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
