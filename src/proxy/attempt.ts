/**
 * One upstream attempt with one key: the outgoing request, the first-byte timeout, and the link
 * between the client's disconnect and the upstream request.
 * @module
 */
import type { Endpoint, Provider } from "../providers/types.ts";

/** A `fetch`-shaped upstream transport. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/**
 * A transport that already holds a response body in memory may attach it to the Response under
 * this symbol; the pool then uses those bytes instead of reading the body again. Purely an
 * optimization (reading a body through the Response API costs a web-stream round trip on Node).
 */
export const BODY_BYTES: unique symbol = Symbol.for("ollama-api-pool.body-bytes");

/**
 * A transport may attach the response headers under this symbol as a plain record (lowercase
 * names, one string each). The pool then copies them without building a `Headers` object, and
 * answers with a record too, which `@hono/node-server` writes without converting anything.
 */
export const HEADER_RECORD: unique symbol = Symbol.for("ollama-api-pool.header-record");

/** Request headers a client may pass to the upstream; everything else (auth, cookies) stays here. */
const FORWARDED = ["content-type", "accept", "accept-language", "user-agent", "openai-beta"];

/** Response headers that describe the hop, not the answer. */
const HOP_HEADERS = new Set([
  "connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length",
  "set-cookie", "alt-svc", "strict-transport-security", "server", "date",
]);

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
  /** Aborts the upstream request (used when the client disconnects mid-stream). */
  abort(): void;
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
  /** The client's signal: its disconnect aborts the upstream request. */
  signal?: AbortSignal;
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

  const controller = new AbortController();
  const abort = (): void => controller.abort();
  const onClientAbort = (): void => controller.abort(o.signal?.reason);
  o.signal?.addEventListener("abort", onClientAbort, { once: true });
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
    return { response, abort };
  } catch (err) {
    o.signal?.removeEventListener("abort", onClientAbort);
    const error = controller.signal.aborted && controller.signal.reason instanceof Error
      ? controller.signal.reason
      : err instanceof Error ? err : new Error(String(err));
    return { error, abort };
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

/** The upstream response headers worth passing to the client, as a plain record. */
export function passHeaders(upstream: Response): Record<string, string> {
  const out: Record<string, string> = {};
  const record = (upstream as { [HEADER_RECORD]?: Record<string, string> })[HEADER_RECORD];
  if (record) {
    for (const k in record) if (!HOP_HEADERS.has(k)) out[k] = record[k];
  } else {
    upstream.headers.forEach((v, k) => {
      if (!HOP_HEADERS.has(k)) out[k] = v;
    });
  }
  return out;
}
