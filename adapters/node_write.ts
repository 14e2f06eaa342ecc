/**
 * Writing the pool's streamed answers to a Node response directly. @hono/node-server sends the
 * headers of a streamed Response in a write of their own, then one write per chunk and one for
 * the end: three or more syscalls for a short SSE answer, a tenth of the pool's CPU in profiles.
 * Here everything a stream yields within one event-loop turn (headers, chunks, the end) leaves
 * in one write, and headers still go out at the end of that turn when the first chunk is slow.
 * @module
 */
import { ServerResponse } from "node:http";
import type { Http2Bindings, HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { CLIENT_GONE, type ClientGone, RESPONSE_PARTS, type ResponseParts } from "../src/proxy/attempt.ts";

/**
 * @hono/node-server's marker for "the handler wrote the answer itself". It is only usable while
 * it is a native Response: created after @hono/node-server replaced the global Response (another
 * server in this process started first), it would be written as an empty 200 on top of ours.
 */
const alreadySent: Response | undefined = Object.getPrototypeOf(Response) === Function.prototype ? RESPONSE_ALREADY_SENT : undefined;

/** The Node environment the pool's handler gets: @hono/node-server's, plus CLIENT_GONE. */
type NodeEnv = (HttpBindings | Http2Bindings) & { [CLIENT_GONE]?: ClientGone };

/**
 * Wraps the pool's fetch handler for @hono/node-server's `getRequestListener`. The pool learns of
 * a client leaving from the response's "close" event (CLIENT_GONE) rather than from
 * `request.signal`, which would cost an AbortSignal per request; and its streamed answers (those
 * carrying RESPONSE_PARTS) are written here, see the module doc. Everything else is returned.
 */
export function nodeHandler(
  fetch: (request: Request, env: NodeEnv) => Promise<Response>,
): (request: Request, env: HttpBindings | Http2Bindings) => Promise<Response> {
  return async (request, env) => {
    const out = env.outgoing;
    const gone: ClientGone = (listener) => {
      // Gone already (while the request body was read): "close" will not come again.
      if (out.destroyed && !out.writableFinished) return listener();
      out.once("close", () => {
        if (!out.writableFinished) listener();
      });
    };
    const res = await fetch(request, { incoming: env.incoming, outgoing: out, [CLIENT_GONE]: gone } as NodeEnv);
    const parts = (res as { [RESPONSE_PARTS]?: ResponseParts })[RESPONSE_PARTS];
    // HTTP/1 only: HTTP/2 responses have their own stream semantics, left to @hono/node-server.
    if (!parts || !alreadySent || !(out instanceof ServerResponse) || out.headersSent) return res;
    writeStream(out, parts);
    return alreadySent;
  };
}

/** Streams `parts.body` to `out`, coalescing each event-loop turn's output into one write. */
function writeStream(out: ServerResponse, parts: ResponseParts): void {
  const reader = parts.body.getReader();
  // The client went away (or the answer ended): cancelling the tap aborts the upstream request.
  const cancel = (): void => {
    reader.cancel().catch(() => {});
  };
  if (out.destroyed) return cancel();
  out.on("close", cancel);
  out.writeHead(parts.status, parts.headers);
  let corked = false;
  const turnEnd = (): void => {
    if (!corked) return;
    corked = false;
    // Nothing arrived this turn: the headers go now, as the client may wait long for a first token.
    if (!out.headersSent && !out.writableEnded) out.flushHeaders();
    out.uncork();
  };
  const cork = (): void => {
    if (corked) return;
    corked = true;
    out.cork();
    setImmediate(turnEnd);
  };
  const fail = (err: unknown): void => {
    out.destroy(err instanceof Error ? err : new Error(String(err)));
  };
  const next = (): void => {
    reader.read().then(flow, fail);
  };
  const flow = (r: ReadableStreamReadResult<Uint8Array>): void => {
    if (out.destroyed) return;
    cork();
    if (r.done) {
      corked = false; // end() uncorks the socket fully
      out.end();
    } else if (out.write(r.value)) next();
    else out.once("drain", next);
  };
  cork();
  next();
}
