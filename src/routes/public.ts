/** Public routes: health. @module */
import { Hono } from "hono";
import type { PoolState } from "../state.ts";
import { VERSION } from "../version.ts";
import type { PoolEnv } from "./context.ts";

export function publicRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();
  app.get("/health", (c) => {
    const providers: Record<string, unknown> = {};
    for (const p of state.options.providers) {
      const counts = state.keys.pool(p.id).counts();
      providers[p.id] = { enabled: true, configured: counts.total > 0, keys: counts };
    }
    const storage = state.storeHealth();
    return c.json({
      status: storage.status,
      version: VERSION,
      providers,
      storage: { ...storage, pendingStats: state.stats.pendingRecords, droppedStats: state.stats.dropped },
      timestamp: new Date(state.options.now()).toISOString(),
    });
  });
  return app;
}
