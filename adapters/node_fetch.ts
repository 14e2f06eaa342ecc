/**
 * A faster upstream transport for Node: undici's `dispatch` on a keep-alive Agent (see
 * node_dispatch.ts). On Node 20 the global `fetch` costs about 3× in proxy throughput
 * (autocannon through a minimal Hono proxy: 1.4–2.2k req/s with `fetch`, 4.6–5.1k with undici's
 * `request`); this implements the pool's transport contract (src/proxy/transport.ts) directly:
 * header records, small bodies as bytes, streams as a push source the pool drives — no
 * `Response` on the proxy path. It is
 * also a plain `fetch` for everything else (probes, mail, Turnstile). Deno, Bun and Workers keep
 * their native `fetch`.
 * @module
 */
import { pipeline, Readable, type Transform } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { Agent, request } from "undici";
import { drivenStream } from "../src/proxy/body_stream.ts";
import { dispatchExchange, headerRecord } from "./node_dispatch.ts";
import {
  type ChunkSink,
  type ChunkSource,
  invalidStatus,
  NULL_BODY_STATUSES,
  type TransportFetch,
  type UpstreamAnswer,
  type UpstreamRequest,
} from "../src/proxy/transport.ts";

/** Options of {@link undiciFetch}. */
export interface UndiciFetchOptions {
  /**
   * Connections kept per upstream origin.
   * @default 256
   */
  connections?: number;
  /**
   * How long an idle upstream connection is kept.
   * @default 30000
   */
  keepAliveTimeoutMs?: number;
  /**
   * undici's `headersTimeout`. Off by default, so that undici's own 300 s default never decides:
   * the pool's `failover.firstByteTimeoutMs` bounds the wait for headers on every transport.
   * Set it when using this transport without the pool.
   * @default 0 (off)
   */
  headersTimeoutMs?: number;
  /**
   * undici's `bodyTimeout`: the longest gap between two body chunks (undici does not count time
   * a slow reader keeps the body paused). Off by default for the same reason: the pool's
   * `streamIdleTimeoutMs` bounds it on every transport.
   * @default 0 (off)
   */
  bodyTimeoutMs?: number;
}

/**
 * Bodies with a `content-length` up to this size are read here, in one piece (the common small
 * JSON answer); larger or unsized ones go to the pool as streams, which it reads with its own
 * size bound and idle timeout. So this transport never holds more than 1 MiB of one body.
 */
const MAX_BUFFERED_BYTES = 1024 * 1024;

const ignore = (): void => {};

/**
 * Throws a body away without ever leaving an "error" event unheard: undici's body emits one
 * (RequestAbortedError) when destroyed before it was read to the end.
 */
function discard(body: Readable & { dump?: () => Promise<void> }): void {
  body.on("error", ignore);
  if (typeof body.dump === "function") body.dump().catch(ignore); // reads a little, then closes
  else body.destroy();
}

const DECODERS: Record<string, () => Transform> = {
  gzip: createGunzip,
  "x-gzip": createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/**
 * The undici transport: `send` answers in the pool's transport contract; called as a function it
 * is a `fetch` (a standard Response built from that answer). Bodies with a `content-length` up
 * to 1 MiB arrive as bytes (small JSON answers); others (SSE, NDJSON, chunked) as streams.
 * Compressed bodies are decoded, as `fetch` would, since the pool passes bodies on without
 * `content-encoding`.
 * @example
 * createPool({ providers: [ollama()], fetch: undiciFetch() });
 */
export function undiciFetch(options: UndiciFetchOptions = {}): TransportFetch {
  const dispatcher = new Agent({
    connections: options.connections ?? 256,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    headersTimeout: options.headersTimeoutMs ?? 0,
    bodyTimeout: options.bodyTimeoutMs ?? 0,
  });
  // Bun's built-in "undici" module (tests run this adapter there too) has no Agent.request nor
  // a usable dispatch: there the answer is read through its `request()`.
  const direct = typeof (dispatcher as Partial<Agent>).request === "function";
  const send = async (url: string, init: UpstreamRequest): Promise<UpstreamAnswer> => {
    if (!direct) return viaRequest(dispatcher, url, init);
    // Origin and path, not a URL: no `new URL` per call.
    const slash = url.indexOf("/", url.indexOf("//") + 2);
    const answer = await dispatchExchange(
      dispatcher,
      slash < 0 ? url : url.slice(0, slash),
      slash < 0 ? "/" : url.slice(slash),
      init,
      MAX_BUFFERED_BYTES,
      (encoding) => Object.hasOwn(DECODERS, encoding),
    );
    if (!("encoded" in answer)) return answer.source ? streamed(answer.status, answer.headers, answer.source) : answer;
    // Compressed: decoded as `fetch` would, since the pool passes bodies on without
    // `content-encoding`; the answer describes the decoded body.
    const { status, headers } = answer;
    const decoder = DECODERS[headers["content-encoding"].toLowerCase()];
    delete headers["content-encoding"];
    delete headers["content-length"];
    // pipeline() hears every error of both streams (a corrupt gzip body emits one on the
    // decoder) and destroys both when either fails or the reader cancels.
    return streamed(status, headers, nodeSource(pipeline(sourceReadable(answer.encoded), decoder(), ignore)));
  };
  const fetchFace = async (url: string, init: RequestInit): Promise<Response> => {
    const answer = await send(url, {
      method: init.method ?? "GET",
      headers: plainHeaders(init.headers) ?? {},
      body: init.body as string | undefined,
      signal: init.signal ?? new AbortController().signal,
    });
    const body = answer.source ? drivenStream(answer.source) : answer.body as Uint8Array<ArrayBuffer> | null;
    return new Response(body, { status: answer.status, headers: answer.headers });
  };
  return Object.assign(fetchFace, { send });
}

/** The answer through undici's `request()`: Bun's "undici" module, which has no usable `dispatch`. */
async function viaRequest(dispatcher: Agent, url: string, init: UpstreamRequest): Promise<UpstreamAnswer> {
  const res = await request(url, {
    method: init.method as "GET",
    headers: init.headers,
    body: init.body,
    signal: init.signal,
    dispatcher,
  });
  const status = res.statusCode;
  // The body's errors are heard from now on, whatever happens to it below.
  res.body.on("error", ignore);
  // `new Response` throws a RangeError for these; to the pool they are a failed attempt.
  if (status < 200 || status > 599) {
    discard(res.body);
    throw invalidStatus(status);
  }
  const headers = headerRecord(res.headers);
  // 204, 205 and 304 have no body by definition (`new Response` refuses one); nor has HEAD.
  if (NULL_BODY_STATUSES.has(status) || init.method === "HEAD") {
    discard(res.body);
    return { status, headers, body: null };
  }
  // Bun's "undici" runs on its fetch, which has decoded the body already: the answer describes
  // the decoded body.
  if (headers["content-encoding"] !== undefined) {
    delete headers["content-encoding"];
    delete headers["content-length"];
  }
  const length = headers["content-length"];
  if (length !== undefined && Number(length) <= MAX_BUFFERED_BYTES) {
    // A mid-body failure throws here, where the pool treats it as a connection error.
    return { status, headers, body: new Uint8Array(await res.body.arrayBuffer()) };
  }
  return streamed(status, headers, nodeSource(res.body));
}

/** A push source as a Node Readable (to pipe an encoded body through its decoder). */
function sourceReadable(source: ChunkSource): Readable {
  let started = false;
  const readable: Readable = new Readable({
    read() {
      if (!started) {
        started = true;
        source.start({
          chunk: (bytes) => void (readable.push(bytes) || source.pause()),
          end: () => void readable.push(null),
          fail: (error) => void readable.destroy(error instanceof Error ? error : new Error(String(error))),
        });
      }
      source.resume();
    },
    destroy(error, callback) {
      source.cancel();
      callback(error);
    },
  });
  return readable;
}

/** A streamed answer: its body a push source (the pool drives it) and, on demand, a web stream. */
function streamed(status: number, headers: Record<string, string>, source: ChunkSource): UpstreamAnswer {
  let stream: ReadableStream<Uint8Array> | undefined;
  return {
    status,
    headers,
    source,
    // Built only when read (error bodies, large non-stream answers): a stream answer never needs it.
    get body() {
      return stream ??= drivenStream(source);
    },
  };
}

/** Request headers as undici takes them: a plain record passes through as it is. */
function plainHeaders(h: HeadersInit | undefined): Record<string, string> | undefined {
  if (h === undefined) return undefined;
  if (!(h instanceof Headers) && !Array.isArray(h)) return h as Record<string, string>;
  const out: Record<string, string> = {};
  new Headers(h).forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

/**
 * A Node stream as the contract's push source. Its errors are heard from the start, not from the
 * first read: a body the pool discards unread is destroyed, and undici then emits an error that,
 * unheard, would end the process; one that comes before `start` is delivered by `start`.
 * Nothing is read before the first `resume`.
 */
function nodeSource(body: Readable): ChunkSource {
  let sink: ChunkSink | undefined;
  let early: Error | undefined;
  let over = false;
  const fail = (err: Error): void => {
    if (over) return;
    if (!sink) return void (early ??= err);
    over = true;
    sink.fail(err);
  };
  body.on("error", fail);
  // Closed without "end": the upstream connection broke mid-body. (An Error costs a stack trace,
  // so it is made only then.)
  body.once("close", () => {
    if (!over) fail(new Error("upstream connection closed mid-body"));
  });
  return {
    start(s) {
      sink = s;
      if (early) return fail(early);
      // A Buffer is a Uint8Array: passed on as it is, no view allocated per chunk.
      body.on("data", (chunk: Buffer) => {
        if (!over) s.chunk(chunk);
      });
      body.once("end", () => {
        if (over) return;
        over = true;
        s.end();
      });
    },
    resume() {
      if (!over) body.resume();
    },
    pause() {
      body.pause();
    },
    cancel() {
      over = true;
      body.destroy();
    },
  };
}
