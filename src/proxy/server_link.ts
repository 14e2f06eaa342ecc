/**
 * What a server adapter and the pool may tell each other beyond the standard fetch handler
 * (`(Request) => Response`), for runtimes where the standard objects cost more than the facts
 * they carry. Both are optional: without them the pool uses `request.signal`, and the server
 * writes the Response as any other. Kept in WeakMaps keyed by the very Request and Response
 * objects, so nothing is attached to them and an entry goes with its object.
 * @module
 */
import type { BodyDriver, BodyTarget } from "./body_stream.ts";

/** Registers `listener` to be called once if the client goes away before its answer is complete. */
export type ClientGone = (listener: () => void) => void;

/** What a streamed answer of the pool was built from, headers as a plain record. */
export interface StreamedAnswer {
  status: number;
  headers: Record<string, string>;
  body: ReadableStream<Uint8Array>;
  /**
   * The same body pushed straight to `target` by the pool's one stream driver, tap included,
   * without the web stream (a promise and a queue per chunk). Use this or `body`, never both.
   */
  drive(target: BodyTarget): BodyDriver;
}

const goneByRequest = new WeakMap<Request, ClientGone>();
const partsByResponse = new WeakMap<Response, StreamedAnswer>();

/**
 * Server side: the pool learns of `request`'s client leaving from `gone` instead of from
 * `request.signal` (which on Node costs an AbortSignal and its listeners per request).
 */
export function tellClientGone(request: Request, gone: ClientGone): void {
  goneByRequest.set(request, gone);
}

/** Pool side: how to learn that `request`'s client left (the server's word, else its signal). */
export function clientGoneOf(request: Request): ClientGone {
  const told = goneByRequest.get(request);
  if (told) return told;
  const signal = request.signal;
  return (listener) => {
    if (signal.aborted) listener();
    else signal.addEventListener("abort", listener, { once: true });
  };
}

/** Pool side: `response` is a streamed answer made of `parts`, which a server may write itself. */
export function markStreamed(response: Response, parts: StreamedAnswer): Response {
  partsByResponse.set(response, parts);
  return response;
}

/**
 * Server side: the parts of a streamed answer of the pool, to write without the Response API
 * (adapters/node_write.ts sends the headers with the first chunk). Undefined for any other
 * Response — including one rebuilt from a streamed answer to change its headers (as Hono's
 * middleware does), which is then written as a Response.
 */
export function streamedParts(response: Response): StreamedAnswer | undefined {
  return partsByResponse.get(response);
}
