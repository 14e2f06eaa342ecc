/** Admin: the response cache. @module */
import { Hono } from "hono";
import type { PoolState } from "../state.ts";
import { jsonBody, type PoolEnv, stringField } from "./context.ts";

export function adminCacheRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();
  app.get("/cache/stats", (c) => c.json(state.cache.stats()));
  app.post("/cache/clear", async (c) => {
    const body = await jsonBody(c, state);
    const provider = stringField(body, "provider");
    const model = stringField(body, "model", "pattern");
    const removed = await state.cache.clear({ provider, model });
    return c.json({ success: true, removed, message: `removed ${removed} cached answer(s)` });
  });
  return app;
}
