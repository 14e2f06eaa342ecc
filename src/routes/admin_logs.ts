/**
 * Admin: the request log (`GET /admin/logs`, JSON pages or an NDJSON export) and one key's
 * detail (`GET /admin/api-keys/:id`: state, rest reason, success rate, its last errors).
 * @module
 */
import { type Context, Hono } from "hono";
import { PoolError } from "../errors.ts";
import { maskSecret } from "../keys/secrets.ts";
import type { LogFilter } from "../logs/types.ts";
import type { RequestLog } from "../logs/request_log.ts";
import { statusMatcher } from "../logs/query.ts";
import { statsRecord } from "../stats/recorder.ts";
import { rate } from "../stats/views.ts";
import type { PoolState } from "../state.ts";
import { GET_KEY_DETAIL, GET_LOGS } from "../openapi/admin_logs.ts";
import { type PoolEnv, providerParam } from "./context.ts";
import { serve, type Valid } from "./contract.ts";
import { keyView } from "./admin_keys.ts";

/** The filters of a log query, from its validated parameters. */
export function logFilter(c: Context<PoolEnv>, state: PoolState, q: Valid<typeof GET_LOGS>["query"]): LogFilter {
  statusMatcher(q.status); // 400 now rather than a silent empty result
  const time = (v: number | string | undefined) => (typeof v === "string" ? Date.parse(v) : v);
  const f: LogFilter = {
    token: q.token,
    key: q.key,
    model: q.model,
    provider: q.provider ? providerParam(c, state) : undefined,
    status: q.status,
    since: time(q.since),
    until: time(q.until),
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

  serve(app, "/admin", state, GET_LOGS, async (c, { query }) => {
    const log = requireLog(state);
    const filter = logFilter(c, state, query);
    // The export by Accept header, or by ?format=ndjson (a link in the dashboard cannot set headers).
    if ((c.req.header("accept") ?? "").includes("application/x-ndjson") || query.format === "ndjson") {
      return ndjsonExport(log, filter);
    }
    const page = await log.query(filter, query.limit, query.cursor);
    return c.json({
      records: page.records,
      next_cursor: page.next ?? null,
      partial: page.partial === true,
      retention_days: state.options.logRetentionDays,
    });
  });

  serve(app, "/admin", state, GET_KEY_DETAIL, async (c, { provider, params: { id } }) => {
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
