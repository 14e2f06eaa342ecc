/**
 * One upstream exchange on undici's `dispatch` API, answered in the pool's transport contract.
 * undici's `request()` builds, per request, an AsyncResource, a Node Readable for the body
 * (whose events and buffering the pool then reads through), and a promise chain to collect a
 * small body; here one handler object receives the headers and the bytes itself: a small body is
 * gathered into one buffer, a stream is the contract's push source with undici's own pause and
 * resume as its flow control.
 * @module
 */
import type { Dispatcher } from "undici";
import {
  type ChunkSink,
  type ChunkSource,
  invalidStatus,
  NULL_BODY_STATUSES,
  type UpstreamAnswer,
  type UpstreamRequest,
} from "../src/proxy/transport.ts";

/**
 * Most bytes of a body the pool will not read (a status outside 200–599, HEAD, 204) read and
 * dropped, so that its connection can be reused; beyond this the connection is closed instead.
 */
const MAX_DISCARDED_BYTES = 64 * 1024;

/** What the exchange does with the body, once the headers are in. */
type Mode = "headers" | "buffer" | "stream" | "discard" | "over";

/** What {@link dispatchExchange} hands back when the body is encoded: the caller decodes it. */
export interface EncodedAnswer {
  status: number;
  headers: Record<string, string>;
  /** The still-encoded body, as a push source. */
  encoded: ChunkSource;
}

/**
 * Sends `init` through `dispatcher` and resolves once the headers arrived (for a body of known
 * length up to `maxBuffered` bytes, once it arrived too). `decodes(encoding)`: whether the caller
 * decodes bodies of that `content-encoding`; such answers come back as {@link EncodedAnswer}.
 */
export function dispatchExchange(
  dispatcher: Dispatcher,
  origin: string,
  path: string,
  init: UpstreamRequest,
  maxBuffered: number,
  decodes: (encoding: string) => boolean,
): Promise<UpstreamAnswer | EncodedAnswer> {
  return new Promise((resolve, reject) => {
    const signal = init.signal;
    let controller: Dispatcher.DispatchController | undefined;
    let mode: Mode = "headers";
    let status = 0;
    let headers: Record<string, string> = {};
    // Buffer mode: the parts so far; discard mode: bytes dropped so far.
    let parts: Buffer[] = [];
    let size = 0;
    // Stream mode: the reader's sink once it started, an error that came before, whether it wants more.
    let sink: ChunkSink | undefined;
    let early: { error: unknown } | undefined;
    let ended = false;
    let flowing = false;
    const onAbort = (): void => {
      const reason = signal.reason ?? new DOMException("This operation was aborted", "AbortError");
      if (controller) controller.abort(reason);
      else early = { error: reason }; // not on a connection yet: aborted as soon as it is
    };
    const settle = (): void => {
      signal.removeEventListener("abort", onAbort);
    };
    const source: ChunkSource = {
      start(s) {
        sink = s;
        if (early) return s.fail(early.error);
        if (ended) s.end();
      },
      resume() {
        flowing = true;
        if (mode === "stream") controller?.resume();
      },
      pause() {
        flowing = false;
        if (mode === "stream") controller?.pause();
      },
      cancel() {
        if (mode !== "stream") return;
        mode = "over";
        sink = undefined;
        controller?.abort(new DOMException("the reader cancelled the body", "AbortError"));
      },
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (early) c.abort(early.error as Error);
      },
      onResponseStart(c, statusCode, raw) {
        if (statusCode < 200) return; // informational (100 Continue ...): the real answer follows
        status = statusCode;
        headers = headerRecord(raw);
        if (status > 599) {
          mode = "discard";
          return reject(invalidStatus(status));
        }
        // 204, 205 and 304 have no body by definition (`new Response` refuses one); nor has HEAD.
        if (NULL_BODY_STATUSES.has(status) || init.method === "HEAD") {
          mode = "discard";
          return resolve({ status, headers, body: null });
        }
        const encoding = headers["content-encoding"]?.toLowerCase();
        if (encoding !== undefined && decodes(encoding)) {
          mode = "stream";
          c.pause(); // nothing is read before the reader asks
          return resolve({ status, headers, encoded: source });
        }
        const length = headers["content-length"];
        if (length !== undefined && Number(length) <= maxBuffered) {
          mode = "buffer";
          return;
        }
        mode = "stream";
        c.pause(); // nothing is read before the reader asks
        resolve({ status, headers, body: null, source });
      },
      onResponseData(c, chunk) {
        if (mode === "stream") {
          if (sink) sink.chunk(chunk);
          if (!flowing) c.pause();
        } else if (mode === "buffer") {
          parts.push(chunk);
          size += chunk.length;
        } else if (mode === "discard") {
          size += chunk.length;
          if (size > MAX_DISCARDED_BYTES) {
            mode = "over";
            c.abort(new DOMException("body discarded", "AbortError"));
          }
        }
      },
      onResponseEnd() {
        settle();
        if (mode === "buffer") {
          resolve({ status, headers, body: parts.length === 1 ? parts[0] : Buffer.concat(parts, size) });
          parts = [];
        } else if (mode === "stream") {
          ended = true;
          sink?.end();
        }
        mode = "over";
      },
      onResponseError(_c, error) {
        settle();
        const was = mode;
        mode = "over";
        if (was === "headers" || was === "buffer") return reject(error);
        if (was !== "stream") return;
        // The body broke after the headers: the reader hears it (now, or when it starts).
        if (sink) sink.fail(error);
        else early = { error };
      },
    };
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener("abort", onAbort);
    dispatcher.dispatch(
      { origin, path, method: init.method as "GET", headers: init.headers, body: init.body },
      handler,
    );
  });
}

/**
 * undici's parsed headers as the contract's record: lowercase names already; a name sent more
 * than once (an array) has its values joined with ", ", as `Headers.get` would.
 */
export function headerRecord(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in raw) {
    const v = raw[k];
    if (typeof v === "string") out[k] = v;
    else if (v !== undefined) out[k] = v.join(", ");
  }
  return out;
}
