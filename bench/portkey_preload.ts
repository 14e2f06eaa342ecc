/**
 * Preloaded into the Portkey gateway (`@portkey-ai/gateway` 1.15.2, `build/start-server.js`) by
 * bench/portkey.ts: the loopback guard, plus a work-around without which Portkey's Node build
 * cannot stream at all.
 *
 * The bug (Portkey-AI/gateway issues #1389 and #1550): for an SSE answer Portkey builds
 * `new Response(transformedBody, upstreamFetchResponse)` and then appends its `x-portkey-*`
 * headers to it. `@hono/node-server` (which Portkey's `serve()` lets replace `global.Response`
 * with its lightweight class) keeps `init.headers` as they are — here the upstream fetch
 * response's headers, whose guard is "immutable" — so the append throws `TypeError: immutable`
 * and every streamed request answers 500 "Something went wrong". A WHATWG `Response` (Workers,
 * or Node without the override) copies the headers into a fresh, mutable `Headers`.
 *
 * The work-around does exactly that copy, and only in that case (a real fetch `Response` given as
 * `init`): it is what the platform's own `Response` does, and what the unmerged upstream fix
 * (PR #1551: clone into `new Response(body, { status, statusText, headers })`) does, so it adds no
 * work Portkey would not do when fixed. Non-streamed answers never take this path.
 * @module
 */
import net from "node:net";
import "./loopback_guard.ts";

const NativeResponse = globalThis.Response;
let patched = false;

/** Swaps in a subclass of hono's light Response that copies a native Response given as `init`. */
function patchLightResponse(): void {
  const Light = globalThis.Response;
  if (patched || Light === NativeResponse) return; // not replaced (yet): nothing to fix
  patched = true;
  class CopyingResponse extends Light {
    constructor(body?: BodyInit | null, init?: ResponseInit) {
      // Light responses are `instanceof NativeResponse` too (hono sets the prototype chain); only
      // a genuine fetch Response carries the immutable headers.
      if (init instanceof NativeResponse && !(init instanceof Light)) {
        const r = init as Response;
        init = { status: r.status, statusText: r.statusText, headers: new Headers(r.headers) };
      }
      super(body, init);
    }
  }
  Object.defineProperty(globalThis, "Response", { value: CopyingResponse, writable: true, configurable: true });
}

// Hono swaps `global.Response` inside `serve()`, synchronously, right before it calls listen():
// listen() is the first moment the light class exists and the last before any request arrives.
const listen = net.Server.prototype.listen as (...a: unknown[]) => net.Server;
net.Server.prototype.listen = function listenAfterPatch(this: net.Server, ...args: unknown[]): net.Server {
  patchLightResponse();
  if (!patched) console.error("portkey_preload: global Response was not replaced before listen(); nothing patched");
  return listen.apply(this, args);
} as typeof net.Server.prototype.listen;
