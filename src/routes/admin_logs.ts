/**
 * Admin: the request log (`GET /admin/logs`, JSON pages or an NDJSON export) and one key's
 * detail (`GET /admin/api-keys/:id`: state, rest reason, success rate, its last errors).
 * @module
 */
import { type Context, Hono } from "hono";
import { badRequest, PoolError } from "../errors.ts";
import { maskSecret } from "../keys/secrets.ts";
import type { LogFilter } from "../logs/types.ts";
import type { RequestLog } from "../logs/request_log.ts";
import { statusMatcher } from "../logs/query.ts";
import { statsRecord } from "../stats/recorder.ts";
import { rate } from "../stats/views.ts";
import type { PoolState } from "../state.ts";
import { intQuery, type PoolEnv, providerParam } from "./context.ts";
import { keyView } from "./admin_keys.ts";

/** Longest filter value accepted (ids are 16 hex characters, model names at most 200). */
const MAX_FILTER = 256;

/** A time bound: epoch ms or an ISO 8601 date/time. */
function timeParam(c: Context<PoolEnv>, name: string): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return undefined;
  const n = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(n)) throw badRequest(`'${name}' must be epoch milliseconds or an ISO 8601 time`, "invalid_time");
  return n;
}

function textParam(c: Context<PoolEnv>, name: string): string | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return undefined;
  if (raw.length > MAX_FILTER) throw badRequest(`'${name}' is longer than ${MAX_FILTER} characters`, "invalid_filter");
  return raw;
}

/** The filters of a log query, validated. */
export function logFilter(c: Context<PoolEnv>, state: PoolState): LogFilter {
  const status = textParam(c, "status");
  statusMatcher(status); // 400 now rather than a silent empty result
  const f: LogFilter = {
    token: textParam(c, "token"),
    key: textParam(c, "key"),
    model: textParam(c, "model"),
    provider: c.req.query("provider") ? providerParam(c, state) : undefined,
    status,
    since: timeParam(c, "since"),
    until: timeParam(c, "until"),
  };
  for (const k of Object.keys(f) as Array<keyof LogFilter>) if (f[k] === undefined) delete f[k];
  return f;
}

function requireLog(state: PoolState): RequestLog {
  if (!state.logs) throw new PoolError(404, "log_disabled", "the request log is off (LOG_RETENTION_DAYS=0)");
  return state.logs;
}

/** Streams every matching record as NDJSON, page by page: nothing is held beyond one page. */
function ndjsonExport(log: RequestLog, filter: LogFilter): Response {
  const encoder = new TextEncoder();
  const records = log.all(filter);
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await records.next();
        if (next.done) return controller.close();
        controller.enqueue(encoder.encode(`${JSON.stringify(next.value)}\n`));
      } catch (err) {
        controller.error(err);
      }
    },
    async cancel() {
      await records.return(undefined);
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "application/x-ndjson; charset=utf-8",
      "content-disposition": 'attachment; filename="requests.ndjson"',
    },
  });
}

export function adminLogRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();

  app.get("/logs", async (c) => {
    const log = requireLog(state);
    const filter = logFilter(c, state);
    // The export by Accept header, or by ?format=ndjson (a link in the dashboard cannot set headers).
    if ((c.req.header("accept") ?? "").includes("application/x-ndjson") || c.req.query("format") === "ndjson") {
      return ndjsonExport(log, filter);
    }
    const limit = intQuery(c, "limit", 50, 500);
    const page = await log.query(filter, limit, textParam(c, "cursor"));
    return c.json({
      records: page.records,
      next_cursor: page.next ?? null,
      partial: page.partial === true,
      retention_days: state.options.logRetentionDays,
    });
  });

  app.get("/api-keys/:id", async (c) => {
    const provider = providerParam(c, state);
    const id = c.req.param("id");
    const rec = /^[\w-]{1,64}$/.test(id) ? state.keys.pool(provider).get(id) : undefined;
    if (!rec) {
      throw new PoolError(
        404,
        "key_not_found",
        `no key with id ${JSON.stringify(id.slice(0, 64))} in provider "${provider}"`,
      );
    }
    const [s] = await state.stats.read([statsRecord.key(provider, id)]);
    const errors = state.logs ? (await state.logs.query({ provider, key: id, status: undefined }, 200)).records : [];
    // The last attempts of this key that went wrong, newest first (at most 10).
    const lastErrors = errors.flatMap((r) =>
      r.attempts.filter((a) => a.key === id && a.outcome !== "ok").map((a) => ({
        t: r.t,
        request_id: r.id,
        model: r.model ?? null,
        ...a,
      }))
    ).slice(0, 10);
    const total = s.requests ?? 0;
    return c.json({
      key: {
        ...keyView(rec),
        api_key: maskSecret(rec.secret),
        models: (rec as { models?: string[] }).models ?? null,
      },
      stats: {
        requests: total,
        success: s.success ?? 0,
        failure: s.failure ?? 0,
        client_errors: s.clientErrors ?? 0,
        success_rate: rate(s.success ?? 0, total),
        prompt_tokens: s.promptTokens ?? 0,
        completion_tokens: s.completionTokens ?? 0,
        last_used: s.lastUsed ?? null,
      },
      last_errors: lastErrors,
    });
  });
  return app;
}
