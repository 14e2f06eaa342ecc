/** Descriptors of statistics and the response cache (routes/admin_stats.ts, admin_cache.ts). @module */
import { json, obj, ok, paging, ref, type RouteDoc, t } from "./types.ts";

/** `GET /admin/stats`, `GET /admin/keys/stats`, `GET /admin/cache/stats`, `POST /admin/cache/clear`. */
export const ADMIN_STATS_DOCS: RouteDoc[] = [
  {
    method: "GET", path: "/admin/stats", operationId: "getStats", tag: "Admin: stats", auth: "admin", provider: true,
    summary: "Totals, top models and the last 24 hours of one provider",
    responses: ok(obj({
      provider: t.str(),
      total_api_keys: t.int(), active_keys: t.int(), cooling_keys: t.int(), failed_keys: t.int("Disabled keys."),
      total_client_tokens: t.int(), total_requests: t.int(), success_count: t.int(), failure_count: t.int(),
      client_error_count: t.int(), client_closed_count: t.int("Requests whose client left before the answer was complete (499)."),
      success_rate: t.num("Percent, two decimals."), prompt_tokens: t.int(), completion_tokens: t.int(),
      estimated_tokens: t.int("Of the token counts, the pool's estimate for requests whose client left before the upstream reported usage."),
      top_models: t.arr(ref("ModelRow"), "At most 20."),
      hourly: t.arr({ allOf: [ref("HourRow"), obj({ tokens: t.int() })] }, "24 rows, oldest first."),
      storage: t.str("Storage driver name."),
      timestamp: t.str("ISO time."),
    })),
  },
  {
    method: "GET", path: "/admin/keys/stats", operationId: "getKeyStats", tag: "Admin: stats", auth: "admin", provider: true,
    summary: "Per-key request counts and success rates",
    params: paging(500, 1000),
    responses: ok(obj({
      provider: t.str(),
      stats: t.arr(obj({
        id: t.str(), key: t.str("Masked."), username: t.nullable("string"), totalRequests: t.int(), successCount: t.int(), failureCount: t.int(),
        clientClosedCount: t.int("Attempts whose client left before the answer was complete."),
        successRate: t.num("Percent."), promptTokens: t.int(), completionTokens: t.int(), lastUsed: t.nullable("integer", "Epoch ms."),
        status: ref("KeyState"), disabledReason: t.nullable("string", "Null for active keys."),
      })),
      total: t.int("Keys in the pool."), page: t.int(), pageSize: t.int(),
    })),
  },
  {
    method: "GET", path: "/admin/cache/stats", operationId: "getCacheStats", tag: "Admin: cache", auth: "admin",
    summary: "Response-cache size and hit rate",
    responses: ok(obj({
      enabled: t.bool(), shared: t.bool("Kept in storage, shared by instances."), entries: t.int(), bytes: t.int(), maxEntries: t.int(), maxBytes: t.int(),
      ttlMs: t.int(), hits: t.int(), misses: t.int(), hitRate: t.num("Percent."),
    })),
  },
  {
    method: "POST", path: "/admin/cache/clear", operationId: "clearCache", tag: "Admin: cache", auth: "admin",
    summary: "Drop cached answers (all, or of a provider / model)",
    body: {
      required: false,
      content: json(obj({ provider: ref("ProviderId"), model: t.str("Substring of the model name (`pattern` also accepted).") }, ["provider", "model"]), { model: "llama3" }),
    },
    responses: ok(obj({ success: { const: true }, removed: t.int(), message: t.str() })),
  },
];
