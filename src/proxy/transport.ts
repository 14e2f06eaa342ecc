/**
 * The transport contract: the one interface between the proxy core and whatever sends its
 * upstream requests. The core asks a {@link Transport} to `send` a request and gets an
 * {@link UpstreamAnswer} back once the headers arrived: a status, the headers as a plain record,
 * and the body as bytes (already read) or a stream, plus, optionally, the same stream as a
 * {@link ChunkSource} the core drives itself (see body_stream.ts, the one driver of stream bodies).
 *
 * Any `fetch` is a transport through {@link fetchTransport} (the web-standard path: Deno, Bun,
 * Workers, Node's global fetch). A transport that is cheaper without `Response` objects (the
 * undici one in adapters/node_fetch.ts) is a `fetch` function that also has a `send` method:
 * `createPool({ fetch })` takes either, and {@link transportOf} picks `send` when it is there.
 * @module
 */
import type { FetchLike } from "../types.ts";
import { bytesSource, type ChunkSink, type ChunkSource, webSource } from "./body_stream.ts";

/** A `fetch`-shaped function: what `createPool({ fetch })` takes. */
export type { FetchLike };

/** One upstream request, as the core sends it. */
export interface UpstreamRequest {
  method: string;
  /** Lowercase names, one value each. */
  headers: Record<string, string>;
  body?: string;
  /** Aborts the request, also after the headers arrived (the body then fails). */
  signal: AbortSignal;
}

// The push-source types live beside their driver; the contract names them here.
export type { ChunkSink, ChunkSource };

/** What the upstream answered, headers arrived. */
export interface UpstreamAnswer {
  /** 200–599: other statuses make {@link Transport.send} throw ({@link invalidStatus}). */
  status: number;
  /**
   * Lowercase names; a name sent more than once has its values joined with ", " (as `Headers.get`).
   * The body is decoded: no `content-encoding` (nor the encoded `content-length`) is left.
   */
  headers: Record<string, string>;
  /**
   * Bytes when the transport read the body whole already (small answers of known length), a
   * stream otherwise, null when there is none (204, 205, 304, HEAD). Read at most once.
   */
  body: Uint8Array | ReadableStream<Uint8Array> | null;
  /**
   * The streamed body as a push source, for transports on which that is cheaper than a web
   * stream: the core's stream tap then runs inside the one stream it builds from this, and
   * `body` is never read. Read either this or `body`, never both.
   */
  source?: ChunkSource;
}

/** Sends upstream requests; see the module doc. */
export interface Transport {
  /**
   * Resolves when the upstream's headers arrived; rejects when the request failed before that
   * (connection error, abort, a status outside 200–599). A body that breaks later fails its
   * stream or its read, never the process.
   */
  send(url: string, request: UpstreamRequest): Promise<UpstreamAnswer>;
}

/** A `fetch` that is also a {@link Transport} (adapters/node_fetch.ts's `undiciFetch()`). */
export type TransportFetch = FetchLike & Transport;

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

/** Any `fetch` as a transport: its Response taken apart into the answer's parts. */
export function fetchTransport(fetch: FetchLike): Transport {
  return {
    async send(url, request) {
      const res = await fetch(url, request);
      if (res.status < 200 || res.status > 599) {
        await res.body?.cancel().catch(() => {});
        throw invalidStatus(res.status);
      }
      const headers: Record<string, string> = {};
      res.headers.forEach((v, k) => {
        headers[k] = v;
      });
      // `fetch` decodes compressed bodies: the encoding and the length describe what it received.
      if (headers["content-encoding"] !== undefined) {
        delete headers["content-encoding"], delete headers["content-length"];
      }
      return { status: res.status, headers, body: res.body };
    },
  };
}

/** The transport behind `createPool({ fetch })`: its own `send` when it has one, else the fetch adapted. */
export function transportOf(fetch: FetchLike | TransportFetch): Transport {
  return "send" in fetch && typeof fetch.send === "function" ? fetch : fetchTransport(fetch);
}

/** The answer's body as a push source: the transport's own, or one over `body`. */
export function sourceOf(answer: UpstreamAnswer): ChunkSource | undefined {
  if (answer.source) return answer.source;
  const body = answer.body;
  if (body === null) return undefined;
  return body instanceof Uint8Array ? bytesSource(body) : webSource(body);
}

/** Releases an answer's body unread; never throws. */
export function discardAnswer(answer: UpstreamAnswer): void {
  if (answer.source) return answer.source.cancel();
  const body = answer.body;
  if (body !== null && !(body instanceof Uint8Array)) body.cancel().catch(() => {});
}

/**
 * The answer's status and headers as a bodiless `Response`, for the provider's `classify` hook,
 * whose contract is a standard Response.
 */
export function answerView(answer: UpstreamAnswer): Response {
  return new Response(null, { status: answer.status, headers: answer.headers });
}
