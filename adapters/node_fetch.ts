/**
 * A faster upstream transport for Node: undici's `request()` on a keep-alive Agent, shaped as
 * `fetch`. On Node 20 the global `fetch` costs about 3× in proxy throughput (TOOLCHAIN.md); this
 * skips its WHATWG machinery and, for bodies of known length, web streams altogether.
 * Deno, Bun and Workers keep their native `fetch`.
 * @module
 */
import { Readable, type Transform } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { Agent, request } from "undici";
import { BODY_BYTES, type FetchLike } from "../src/proxy/attempt.ts";

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
}

const DECODERS: Record<string, () => Transform> = {
  gzip: createGunzip,
  "x-gzip": createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/**
 * A `fetch`-shaped transport over undici. Bodies with a `content-length` arrive buffered (they are
 * small JSON answers); others (SSE, NDJSON, chunked) as streams. Compressed bodies are decoded,
 * as `fetch` would, since the pool passes bodies on without `content-encoding`.
 * @example
 * createPool({ providers: [ollama()], fetch: undiciFetch() });
 */
export function undiciFetch(options: UndiciFetchOptions = {}): FetchLike {
  const dispatcher = new Agent({
    connections: options.connections ?? 256,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
  });
  return async (url, init) => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => {
      headers[k] = v;
    });
    const res = await request(url, {
      method: (init.method ?? "GET") as "GET",
      headers,
      body: init.body as string | undefined,
      signal: init.signal ?? undefined,
      dispatcher,
    });
    const out = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (Array.isArray(v)) for (const x of v) out.append(k, x);
      else if (v !== undefined) out.set(k, v);
    }
    const status = res.statusCode;
    if (status === 204 || status === 304 || init.method === "HEAD") {
      await res.body.dump();
      return new Response(null, { status, headers: out });
    }
    const encoding = out.get("content-encoding")?.toLowerCase();
    const decoder = encoding ? DECODERS[encoding] : undefined;
    if (decoder) {
      out.delete("content-encoding");
      out.delete("content-length");
      const decoded = res.body.pipe(decoder());
      res.body.on("error", (err) => decoded.destroy(err));
      return new Response(toWeb(decoded), { status, headers: out });
    }
    if (out.has("content-length")) {
      // A mid-body failure throws here, where the pool treats it as a connection error.
      // A Uint8Array body (not an ArrayBuffer) keeps @hono/node-server's light Response on its
      // fast path; BODY_BYTES lets the pool take the bytes without reading the body again.
      const bytes = new Uint8Array(await res.body.arrayBuffer());
      const response = new Response(bytes, { status, headers: out });
      Object.defineProperty(response, BODY_BYTES, { value: bytes });
      return response;
    }
    return new Response(toWeb(res.body), { status, headers: out });
  };
}

/**
 * A Node stream as a web stream. Not `Readable.toWeb`: on Node 20 it can enqueue into a stream
 * the client already cancelled and crash the process with ERR_INVALID_STATE (nodejs/node#54205).
 * Here every push checks that the stream is still open, and cancelling destroys the source.
 */
function toWeb(source: Readable): ReadableStream<Uint8Array> {
  let open = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      source.on("data", (chunk: Buffer) => {
        if (!open) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) source.pause();
      });
      source.once("end", () => {
        if (open) (open = false, controller.close());
      });
      source.once("error", (err) => {
        if (open) (open = false, controller.error(err));
      });
      source.once("close", () => {
        // Closed without "end": the upstream connection broke mid-body.
        if (open) (open = false, controller.error(new Error("upstream connection closed mid-body")));
      });
    },
    pull() {
      source.resume();
    },
    cancel() {
      open = false;
      source.destroy();
    },
  });
}
