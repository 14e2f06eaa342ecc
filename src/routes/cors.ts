/**
 * CORS for the proxy routes only, so browser chat apps (LobeChat, NextChat, Obsidian plugins) can
 * call the pool: the preflight is answered (204) before any authentication, allowed headers mirror
 * the preflight's `Access-Control-Request-Headers` (so `x-stainless-*`, `anthropic-*` and
 * `x-api-key` pass), and the pool's own headers are readable by the page. Credentials are never
 * allowed: clients send tokens in headers, not cookies, so `*` stays safe. Admin, dashboard,
 * metrics and user-session routes get no CORS at all (a page elsewhere must not drive them).
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";

/** Response headers a cross-origin page may read. */
export const EXPOSED_HEADERS = ["x-request-id", "x-pool-overhead-ms", "retry-after"];

/** How long a browser may reuse a preflight answer (seconds). */
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * The middleware for `origins` (`"*"` or exact origins). Requests without an `Origin` header
 * (every SDK and server-side client) skip it: Hono's CORS middleware would touch the response's
 * headers, which makes Hono rebuild the streamed Response and costs the Node adapter its
 * direct-write path.
 */
export function proxyCors(origins: "*" | string[]): MiddlewareHandler {
  const allowed = origins === "*" ? undefined : new Set(origins);
  const handler = cors({
    origin: allowed ? (origin) => (allowed.has(origin) ? origin : null) : "*",
    allowMethods: ["GET", "POST", "OPTIONS"],
    exposeHeaders: EXPOSED_HEADERS,
    maxAge: PREFLIGHT_MAX_AGE_S,
    credentials: false,
  });
  return (c, next) => (c.req.raw.headers.get("origin") === null ? next() : handler(c, next));
}
