/** Admin: the response cache. @module */
import { Hono } from "hono";
import { CLEAR_CACHE, GET_CACHE_STATS } from "../openapi/admin_stats.ts";
import type { PoolState } from "../state.ts";
import { type PoolEnv, providerParam } from "./context.ts";
import { serve } from "./contract.ts";

export function adminCacheRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();
  serve(app, "/admin", state, GET_CACHE_STATS, (c) => c.json(state.cache.stats()));
  serve(app, "/admin", state, CLEAR_CACHE, async (c, { query, body }) => {
    // Clearing is the one admin action where "no provider" means all of them, not the first.
    const given = query.provider || body.provider;
    const provider = given ? providerParam(c, state, { provider: given }) : undefined;
    const removed = await state.cache.clear({ provider, model: body.model || undefined });
    return c.json({ success: true, removed, message: `removed ${removed} cached answer(s)` });
  });
  return app;
}
