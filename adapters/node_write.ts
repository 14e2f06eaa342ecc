/**
 * Writing the pool's streamed answers to a Node response directly. @hono/node-server sends the
 * headers of a streamed Response in a write of their own, then reads the web stream chunk by
 * chunk (a promise each). Here the pool's stream driver pushes each chunk straight into the
 * response, and the first event-loop turn's output (headers, first chunks, perhaps the end)
 * leaves in one write; headers still go out at the end of that turn when the first chunk is slow.
 * @module
 */
import { ServerResponse } from "node:http";
import type { Http2Bindings, HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { type ClientGone, type StreamedAnswer, streamedParts, tellClientGone } from "../src/proxy/server_link.ts";

/**
 * @hono/node-server's marker for "the handler wrote the answer itself". It is only usable while
 * it is a native Response: created after @hono/node-server replaced the global Response (another
 * server in this process started first), it would be written as an empty 200 on top of ours.
 */
const alreadySent: Response | undefined = Object.getPrototypeOf(Response) === Function.prototype
  ? RESPONSE_ALREADY_SENT
  : undefined;

type NodeEnv = HttpBindings | Http2Bindings;

/**
 * Wraps the pool's fetch handler for @hono/node-server's `getRequestListener`. The pool learns of
 * a client leaving from the response's "close" event (`tellClientGone`) rather than from
 * `request.signal`, which would cost an AbortSignal per request; and its streamed answers (those
 * `streamedParts` knows) are written here, see the module doc. Everything else is returned.
 */
export function nodeHandler(
  fetch: (request: Request, env: NodeEnv) => Promise<Response>,
): (request: Request, env: NodeEnv) => Promise<Response> {
  return async (request, env) => {
    const out = env.outgoing;
    const gone: ClientGone = (listener) => {
      // Gone already (while the request body was read): "close" will not come again.
      if (out.destroyed && !out.writableFinished) return listener();
      out.once("close", () => {
        if (!out.writableFinished) listener();
      });
    };
    tellClientGone(request, gone);
    const res = await fetch(request, env);
    const parts = streamedParts(res);
    // HTTP/1 only: HTTP/2 responses have their own stream semantics, left to @hono/node-server.
    if (!parts || !alreadySent || !(out instanceof ServerResponse) || out.headersSent) return res;
    writeStream(out, parts);
    return alreadySent;
  };
}

/**
 * Writes a streamed answer to `out`: the pool's stream driver pushes the body (tap included)
 * straight into `out.write`, paused while `out` is full. The first turn is corked so that the
 * headers leave with the first chunk, or alone at its end when that chunk is slow; later chunks
 * are plain writes (Node corks each chunked write's parts into one syscall itself).
 */
function writeStream(out: ServerResponse, parts: StreamedAnswer): void {
  let corked = false;
  const driver = parts.drive({
    write(bytes) {
      return !out.destroyed && out.write(bytes);
    },
    close() {
      if (out.destroyed) return;
      corked = false; // end() uncorks the socket fully
      out.end();
    },
    error(err) {
      out.destroy(err instanceof Error ? err : new Error(String(err)));
    },
  });
  // The client went away (or the answer ended): cancelling the tap aborts the upstream request.
  const cancel = (): void => driver.cancel();
  if (out.destroyed) return cancel();
  out.on("close", cancel);
  out.on("drain", () => driver.want());
  out.writeHead(parts.status, parts.headers);
  corked = true;
  out.cork();
  setImmediate(() => {
    if (!corked) return;
    corked = false;
    // Nothing arrived this turn: the headers go now, as the client may wait long for a first token.
    if (!out.headersSent && !out.writableEnded) out.flushHeaders();
    out.uncork();
  });
  driver.want();
}
