/** Admin: usage statistics per provider and per key. @module */
import { Hono } from "hono";
import { maskSecret } from "../keys/secrets.ts";
import type { KeyRecord } from "../keys/types.ts";
import { statsRecord } from "../stats/recorder.ts";
import { overview, rate, topModels } from "../stats/views.ts";
import type { PoolState } from "../state.ts";
import { GET_KEY_STATS, GET_STATS } from "../openapi/admin_stats.ts";
import type { PoolEnv } from "./context.ts";
import { serve } from "./contract.ts";

export function adminStatsRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();

  serve(app, "/admin", state, GET_STATS, async (c, { provider }) => {
    const counts = state.keys.pool(provider).counts();
    const { global: g, models: m, hourly } = await overview(state.stats, provider, state.options.now());
    const requests = g.requests ?? 0;
    const success = g.success ?? 0;
    return c.json({
      provider,
      total_api_keys: counts.total,
      active_keys: counts.active,
      cooling_keys: counts.cooling,
      failed_keys: counts.disabled,
      total_client_tokens: state.tokens.size,
      total_requests: requests,
      success_count: success,
      failure_count: g.failure ?? 0,
      client_error_count: g.clientErrors ?? 0,
      client_closed_count: g.clientClosed ?? 0,
      success_rate: rate(success, requests),
      prompt_tokens: g.promptTokens ?? 0,
      completion_tokens: g.completionTokens ?? 0,
      estimated_tokens: g.estimatedTokens ?? 0,
      top_models: topModels(m, 20),
      hourly,
      storage: state.store.storage.getMount().driver.name ?? "custom",
      timestamp: new Date(state.options.now()).toISOString(),
    });
  });

  serve(app, "/admin", state, GET_KEY_STATS, async (c, { provider, query: { page, pageSize } }) => {
    const from = (page - 1) * pageSize;
    const slice: KeyRecord[] = [];
    let i = 0;
    const pool = state.keys.pool(provider);
    for (const r of pool.values()) {
      if (i >= from && slice.length < pageSize) slice.push(r);
      if (++i >= from + pageSize) break;
    }
    const counters = await state.stats.read(slice.map((r) => statsRecord.key(provider, r.id)));
    const stats = slice.map((r, j) => {
      const s = counters[j];
      const total = s.requests ?? 0;
      return {
        id: r.id,
        key: maskSecret(r.secret),
        username: r.label ?? null,
        totalRequests: total,
        successCount: s.success ?? 0,
        failureCount: s.failure ?? 0,
        clientClosedCount: s.clientClosed ?? 0,
        successRate: rate(s.success ?? 0, total),
        promptTokens: s.promptTokens ?? 0,
        completionTokens: s.completionTokens ?? 0,
        lastUsed: s.lastUsed ?? null,
        status: r.state,
        disabledReason: r.state === "active" ? null : r.reason ?? null,
      };
    });
    return c.json({ provider, stats, total: pool.size, page, pageSize });
  });
  return app;
}
