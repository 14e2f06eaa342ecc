/** Contracts of statistics and the response cache (routes/admin_stats.ts, admin_cache.ts). @module */
import * as z from "zod/mini";
import { type Contract, contract } from "./contract.ts";
import { paging, PAGING_CODES } from "./fields.ts";
import { obj, ok, ref, t } from "./types.ts";

/** `GET /admin/stats`. */
export const GET_STATS = contract({
  method: "GET",
  path: "/admin/stats",
  operationId: "getStats",
  tag: "Admin: stats",
  auth: "admin",
  provider: true,
  summary: "Totals, top models and the last 24 hours of one provider",
  responses: ok(obj({
    provider: t.str(),
    total_api_keys: t.int(),
    active_keys: t.int(),
    cooling_keys: t.int(),
    failed_keys: t.int("Disabled keys."),
    total_client_tokens: t.int(),
    total_requests: t.int(),
    success_count: t.int(),
    failure_count: t.int(),
    client_error_count: t.int(),
    client_closed_count: t.int("Requests whose client left before the answer was complete (499)."),
    success_rate: t.num("Percent, two decimals."),
    prompt_tokens: t.int(),
    completion_tokens: t.int(),
    estimated_tokens: t.int(
      "Of the token counts, the pool's estimate for requests whose client left before the upstream reported usage.",
    ),
    top_models: t.arr(ref("ModelRow"), "At most 20."),
    hourly: t.arr({ allOf: [ref("HourRow"), obj({ tokens: t.int() })] }, "24 rows, oldest first."),
    storage: t.str("Storage driver name."),
    timestamp: t.str("ISO time."),
  })),
});

/** `GET /admin/keys/stats`. */
export const GET_KEY_STATS = contract({
  method: "GET",
  path: "/admin/keys/stats",
  operationId: "getKeyStats",
  tag: "Admin: stats",
  auth: "admin",
  provider: true,
  summary: "Per-key request counts and success rates",
  query: z.object(paging(500, 1000)),
  codes: PAGING_CODES,
  responses: ok(obj({
    provider: t.str(),
    stats: t.arr(obj({
      id: t.str(),
      key: t.str("Masked."),
      username: t.nullable("string"),
      totalRequests: t.int(),
      successCount: t.int(),
      failureCount: t.int(),
      clientClosedCount: t.int("Attempts whose client left before the answer was complete."),
      successRate: t.num("Percent."),
      promptTokens: t.int(),
      completionTokens: t.int(),
      lastUsed: t.nullable("integer", "Epoch ms."),
      status: ref("KeyState"),
      disabledReason: t.nullable("string", "Null for active keys."),
    })),
    total: t.int("Keys in the pool."),
    page: t.int(),
    pageSize: t.int(),
  })),
});

/** `GET /admin/cache/stats`. */
export const GET_CACHE_STATS = contract({
  method: "GET",
  path: "/admin/cache/stats",
  operationId: "getCacheStats",
  tag: "Admin: cache",
  auth: "admin",
  summary: "Response-cache size and hit rate",
  responses: ok(obj({
    enabled: t.bool(),
    shared: t.bool("Kept in storage, shared by instances."),
    entries: t.int(),
    bytes: t.int(),
    maxEntries: t.int(),
    maxBytes: t.int(),
    ttlMs: t.int(),
    hits: t.int(),
    misses: t.int(),
    hitRate: t.num("Percent."),
  })),
});

const providerOrAll = z.optional(
  z.string().check(z.meta({ "x-ref": "ProviderId", description: "Only this provider's answers; default all." })),
);

/** `POST /admin/cache/clear`: no provider means every provider's answers, not the first's. */
export const CLEAR_CACHE = contract({
  method: "POST",
  path: "/admin/cache/clear",
  operationId: "clearCache",
  tag: "Admin: cache",
  auth: "admin",
  summary: "Drop cached answers (all, or of a provider / model)",
  query: z.object({ provider: providerOrAll }),
  body: z.object({
    provider: providerOrAll,
    model: z.optional(z.string().check(z.trim(), z.maxLength(256), z.describe("Substring of the model name."))),
  }),
  bodyOptional: true,
  aliases: { pattern: "model" },
  codes: { provider: "unknown_provider" }, // as every other route that takes a provider
  example: { model: "llama3" },
  responses: ok(obj({ success: { const: true }, removed: t.int(), message: t.str() })),
});

/** Every statistics and cache contract, in document order. */
export const ADMIN_STATS_CONTRACTS: Contract[] = [GET_STATS, GET_KEY_STATS, GET_CACHE_STATS, CLEAR_CACHE];
