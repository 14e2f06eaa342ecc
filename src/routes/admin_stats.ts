/** Admin: usage statistics per provider and per key. @module */
import { Hono } from "hono";
import { maskSecret } from "../keys/secrets.ts";
import type { KeyRecord } from "../keys/types.ts";
import { dayAndHour, statsRecord } from "../stats/recorder.ts";
import type { PoolState } from "../state.ts";
import { pageParams, type PoolEnv, providerParam } from "./context.ts";

const rate = (ok: number, all: number): number => (all === 0 ? 0 : Math.round((ok / all) * 10_000) / 100);

/** Splits "metric|name" fields into per-name rows. */
function byName(fields: Record<string, number>): Map<string, Record<string, number>> {
  const rows = new Map<string, Record<string, number>>();
  for (const [f, v] of Object.entries(fields)) {
    const bar = f.indexOf("|");
    if (bar < 0) continue;
    const name = f.slice(bar + 1);
    let row = rows.get(name);
    if (!row) rows.set(name, row = {});
    row[f.slice(0, bar)] = v;
  }
  return rows;
}

/** The last `n` whole hours up to now, oldest first, from "metric|HH" day records. */
function lastHours(now: number, n: number, read: (day: string, hour: string, metric: string) => number) {
  const out = [];
  for (let i = n - 1; i >= 0; i--) {
    const at = now - i * 3_600_000;
    const [day, hour] = dayAndHour(at);
    out.push({
      hour: new Date(at - (at % 3_600_000)).toISOString(),
      requests: read(day, hour, "requests"),
      success: read(day, hour, "success"),
      failure: read(day, hour, "failure"),
      tokens: read(day, hour, "tokens"),
    });
  }
  return out;
}

export function adminStatsRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();

  app.get("/stats", async (c) => {
    const provider = providerParam(c, state);
    const counts = state.keys.pool(provider).counts();
    const now = state.options.now();
    const [yesterday] = dayAndHour(now - 86_400_000);
    const [today] = dayAndHour(now);
    const [g, m, d0, d1] = await state.stats.read([
      statsRecord.global(provider), statsRecord.models(provider), statsRecord.day(provider, yesterday), statsRecord.day(provider, today),
    ]);
    const requests = g.requests ?? 0;
    const success = g.success ?? 0;
    const models = [...byName(m)]
      .map(([model, r]) => ({ model, requests: r.requests ?? 0, success: r.success ?? 0, promptTokens: r.promptTokens ?? 0, completionTokens: r.completionTokens ?? 0 }))
      .sort((a, b) => b.requests - a.requests)
      .slice(0, 20);
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
      success_rate: rate(success, requests),
      prompt_tokens: g.promptTokens ?? 0,
      completion_tokens: g.completionTokens ?? 0,
      top_models: models,
      hourly: lastHours(now, 24, (day, hour, metric) => (day === today ? d1 : d0)[`${metric}|${hour}`] ?? 0),
      storage: state.store.storage.getMount().driver.name ?? "custom",
      timestamp: new Date(state.options.now()).toISOString(),
    });
  });

  app.get("/keys/stats", async (c) => {
    const provider = providerParam(c, state);
    const { page, pageSize } = pageParams(c, 500, 1000);
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
