/** Public routes: health. @module */
import { Hono } from "hono";
import type { PoolState } from "../state.ts";
import { VERSION } from "../version.ts";
import type { KeyCounts } from "../keys/key_pool.ts";
import { presentedToken } from "../auth/bearer.ts";
import { PoolError } from "../errors.ts";
import { overview, rate, topModels } from "../stats/views.ts";
import { HEALTH, METRICS, PUBLIC_STATS } from "../openapi/public.ts";
import type { PoolEnv } from "./context.ts";
import { serve } from "./contract.ts";

export function publicRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();
  serve(app, "", state, HEALTH, (c) => {
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
      storage: {
        ...storage,
        pendingStats: state.stats.pendingRecords,
        droppedStats: state.stats.dropped,
        pendingLogs: state.logs?.pending ?? 0,
        droppedLogs: state.logs?.dropped ?? 0,
      },
      timestamp: new Date(state.options.now()).toISOString(),
    });
  });
  return app;
}

/** `GET /metrics`: Prometheus text for this process; needs the admin token, like /admin. */
export function metricsRoute(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();
  serve(app, "", state, METRICS, async (c) => {
    const token = presentedToken(c.req.raw.headers);
    const ip = token === undefined ? undefined : state.options.clientIp(c.req.raw, c.env);
    state.guesses.admin.check(ip);
    if (!(await state.admin().check(token))) {
      const refused = await state.guesses.admin.failed(ip);
      if (refused) throw refused;
      throw new PoolError(401, "invalid_admin_token", "/metrics needs 'Authorization: Bearer <ADMIN_TOKEN>'");
    }
    const keys: Record<string, { active: number; cooling: number; disabled: number }> = {};
    for (const p of state.options.providers) keys[p.id] = state.keys.pool(p.id).counts();
    return c.body(state.metrics.render(keys), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });
  return app;
}

/**
 * `GET /admin/public-stats`: what a visitor may see — totals, key counts, top models, the
 * 24-hour trend. No key, token or label appears.
 */
export function publicStatsRoute(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();
  serve(app, "", state, PUBLIC_STATS, async (c, { provider }) => c.json(await publicStats(state, provider)));
  return app;
}

/** What `/admin/public-stats` answers and the `/stats` page shows. */
export interface PublicStats {
  provider: string;
  total_requests: number;
  success_count: number;
  failure_count: number;
  success_rate: number;
  total_tokens: number;
  keys: KeyCounts;
  top_models: Array<{ model: string; requests: number }>;
  top_models_24h: Array<{ model: string; requests: number }>;
  hourly: Array<{ hour: string; requests: number; success: number; failure: number }>;
  timestamp: string;
}

/**
 * How long the public figures are reused. Anyone may ask for them as often as they like, so
 * each provider's are computed at most once a second (and again after statistics were written).
 */
export const PUBLIC_STATS_TTL_MS = 1000;

/** Per pool state, per provider (so bounded by the configured providers): the last answer. */
const publicCache = new WeakMap<PoolState, Map<string, { at: number; flushes: number; value: Promise<PublicStats> }>>();

/** The public figures of one provider's pool, computed at most once per {@link PUBLIC_STATS_TTL_MS}. */
export function publicStats(state: PoolState, provider: string): Promise<PublicStats> {
  let cache = publicCache.get(state);
  if (!cache) publicCache.set(state, cache = new Map());
  const now = state.options.now();
  const hit = cache.get(provider);
  if (hit && now - hit.at < PUBLIC_STATS_TTL_MS && hit.flushes === state.stats.flushes) return hit.value;
  const value = computePublicStats(state, provider);
  cache.set(provider, { at: now, flushes: state.stats.flushes, value });
  value.catch(() => cache.get(provider)?.value === value && cache.delete(provider)); // a failed read is not kept
  return value;
}

async function computePublicStats(state: PoolState, provider: string): Promise<PublicStats> {
  const { global: g, models, hourly, recentModels } = await overview(state.stats, provider, state.options.now());
  const requests = g.requests ?? 0;
  return {
    provider,
    total_requests: requests,
    success_count: g.success ?? 0,
    failure_count: g.failure ?? 0,
    success_rate: rate(g.success ?? 0, requests),
    total_tokens: (g.promptTokens ?? 0) + (g.completionTokens ?? 0),
    keys: state.keys.pool(provider).counts(),
    top_models: topModels(models, 10).map(({ model, requests }) => ({ model, requests })),
    top_models_24h: topModels(recentModels, 3).map(({ model, requests }) => ({ model, requests })),
    hourly: hourly.map(({ hour, requests, success, failure }) => ({ hour, requests, success, failure })),
    timestamp: new Date(state.options.now()).toISOString(),
  };
}
