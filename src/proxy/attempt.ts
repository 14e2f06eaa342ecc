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

/** Request headers a client may pass to the upstream; everything else (auth, cookies) stays here. */
const FORWARDED = ["content-type", "accept", "accept-language", "user-agent", "openai-beta"];

/** Response headers that describe the hop, not the answer. */
const HOP_HEADERS = [
  "connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length",
  "set-cookie", "alt-svc", "strict-transport-security", "server", "date",
];

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
  const headers = new Headers(o.provider.headers);
  for (const name of FORWARDED) {
    const v = o.clientHeaders.get(name);
    if (v !== null && !headers.has(name)) headers.set(name, v);
  }
  o.provider.authorize(headers, o.secret);

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

/** The upstream response headers worth passing to the client. */
export function passHeaders(upstream: Headers): Headers {
  const out = new Headers(upstream);
  for (const h of HOP_HEADERS) out.delete(h);
  return out;
}
