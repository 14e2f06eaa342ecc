/** Admin: the response cache. @module */
import { Hono } from "hono";
import type { PoolState } from "../state.ts";
import { jsonBody, type PoolEnv, providerParam, stringField } from "./context.ts";

export function adminCacheRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();
  app.get("/cache/stats", (c) => c.json(state.cache.stats()));
  app.post("/cache/clear", async (c) => {
    const body = await jsonBody(c, state);
    // Clearing is the one admin action where "no provider" means all of them, not the first.
    const given = c.req.query("provider") ?? stringField(body, "provider");
    const provider = given ? providerParam(c, state, { provider: given }) : undefined;
    const model = stringField(body, "model", "pattern");
    const removed = await state.cache.clear({ provider, model });
    return c.json({ success: true, removed, message: `removed ${removed} cached answer(s)` });
  });
  return app;
}
