/**
 * The pool's own 404 and 405 on a proxied API's paths, in that API's error shape: an Anthropic
 * client that asks `GET /v1/messages` or `/v1/messages/batches` parses Anthropic's
 * `{"type":"error",…}`, not OpenAI's. Elsewhere (admin, pages, unknown paths) they stay the
 * pool's OpenAI-shaped errors.
 * @module
 */
import type { Context } from "hono";
import { basePath } from "hono/route";
import type { PoolError } from "../errors.ts";
import type { Endpoint } from "../providers/types.ts";
import type { WireFormat } from "../wire/types.ts";
import type { PoolEnv } from "./context.ts";

/**
 * The dialect of the endpoint at `path` or the nearest one above it
 * (`/v1/messages/batches` → `/v1/messages`), or undefined.
 */
export function dialectOfPath(endpoints: Iterable<Endpoint>, path: string): WireFormat | undefined {
  let best: Endpoint | undefined;
  for (const e of endpoints) {
    if (path !== e.path && !path.startsWith(`${e.path}/`)) continue;
    if (!best || e.path.length > best.path.length) best = e;
  }
  return best?.format;
}

/**
 * `error` as the answer of the dialect whose path the request is on; thrown as it is (the pool's
 * shape, through `onError`) when the path belongs to none. Mounted under a prefix
 * (`app.route("/llm", pool.app)`), the prefix is not part of the endpoints' paths.
 */
export function inPathDialect(c: Context<PoolEnv>, endpoints: Iterable<Endpoint>, error: PoolError): Response {
  const base = basePath(c).replace(/\/+$/, "");
  const path = c.req.path.startsWith(base) ? c.req.path.slice(base.length) : c.req.path;
  const format = dialectOfPath(endpoints, path);
  if (!format) throw error;
  return format.errorResponse(error);
}
