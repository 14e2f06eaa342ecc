/** Contracts of the request log and a key's detail (routes/admin_logs.ts). @module */
import * as z from "zod/mini";
import { type Contract, contract } from "./contract.ts";
import { json, obj, ok, ref, type Schema, t } from "./types.ts";

const attempt: Schema = obj({
  key: t.str("Key id."),
  outcome: t.enumOf(
    ["ok", "cooldown", "failure", "client-error", "client_closed"],
    "How the pool judged the attempt (a body that broke after good headers: cooldown).",
  ),
  status: t.int("Upstream status, when it answered."),
  ms: t.num("Milliseconds until the upstream's headers or the error."),
  reason: t.str("Why it failed, in the pool's words."),
}, ["status", "reason"]);

/** One record of the request log; never bodies, prompts or secrets. */
export const LOG_RECORD: Schema = obj({
  t: t.int("When the pool got the request, epoch ms."),
  id: t.str("Request id (`x-request-id`)."),
  provider: t.str(),
  route: t.str("Path served, e.g. `/v1/chat/completions`."),
  dialect: t.str("Wire format of the route."),
  model: t.str("Model asked for."),
  target: t.str("Model sent upstream, when an alias mapped it."),
  token: t.str("Client token id."),
  tokenName: t.str(),
  user: t.str("User id, for tokens of the user system."),
  ip: t.str("Client address, when known."),
  attempts: t.arr(attempt),
  status: t.int("Status the client got."),
  error: t.str(
    "The pool's error code (or `upstream_<status>`) when the request failed; `stream_interrupted` or `client_closed` for an answer that failed after its 2xx.",
  ),
  ttfbMs: t.num("Milliseconds until the answer's headers were ready."),
  ms: t.num("Milliseconds until the answer was complete (streams: until they ended)."),
  promptTokens: t.int(),
  completionTokens: t.int(),
  estimated: t.bool("Token counts are the pool's estimate."),
  stream: t.bool(),
  bytes: t.int("Body bytes as the upstream sent them."),
}, [
  "model",
  "target",
  "token",
  "tokenName",
  "user",
  "ip",
  "error",
  "ttfbMs",
  "promptTokens",
  "completionTokens",
  "estimated",
  "bytes",
]);

/** Longest filter value accepted (ids are 16 hex characters, model names at most 200). */
const MAX_FILTER = 256;
const filter = (description: string) => z.optional(z.string().check(z.maxLength(MAX_FILTER), z.describe(description)));
/** Epoch ms, or a time `Date.parse` reads (ISO 8601). */
const time = (description: string) =>
  z.optional(
    z.union([
      z.int().check(z.minimum(0)),
      z.string().check(
        z.refine((v) => Number.isFinite(Date.parse(v)), "must be epoch milliseconds or an ISO 8601 time"),
        z.meta({ format: "date-time" }),
      ),
    ]).check(z.describe(description)),
  );

/** `GET /admin/logs`. */
export const GET_LOGS = contract({
  method: "GET",
  path: "/admin/logs",
  operationId: "getLogs",
  tag: "Admin: logs",
  auth: "admin",
  summary: "Search the request log, newest first",
  description:
    "Filters combine with AND. Pages follow `next_cursor`. With `Accept: application/x-ndjson` every matching " +
    "record is streamed as one JSON line each (no `limit`). 404 `log_disabled` when `LOG_RETENTION_DAYS` is 0.",
  query: z.object({
    token: filter("Client token id."),
    key: filter("Upstream key id (any attempt)."),
    model: filter("Model asked for, or alias target."),
    provider: z.optional(z.string().check(z.meta({ "x-ref": "ProviderId", description: "Provider id." }))),
    status: z.optional(
      z.string().check(z.regex(/^(\d{3}|[1-9][xX][xX])$/), z.describe("A status (`429`) or a class (`4xx`).")),
    ),
    since: time("Oldest time, inclusive: epoch ms or ISO 8601."),
    until: time("Newest time, inclusive: epoch ms or ISO 8601."),
    cursor: filter("`next_cursor` of the previous page."),
    limit: z._default(z.int().check(z.minimum(1), z.maximum(500), z.describe("Records per page, 1 to 500.")), 50),
    format: z.optional(
      z.enum(["ndjson"]).check(z.describe("`ndjson`: the export, as with `Accept: application/x-ndjson`.")),
    ),
  }),
  codes: {
    token: "invalid_filter",
    key: "invalid_filter",
    model: "invalid_filter",
    cursor: "invalid_filter",
    status: "invalid_status",
    since: "invalid_time",
    until: "invalid_time",
    limit: "invalid_paging",
  },
  responses: {
    200: {
      description: "A page of records, or the NDJSON export.",
      content: {
        ...json(obj({
          records: t.arr(ref("LogRecord")),
          next_cursor: t.nullable("string", "Null on the last page."),
          partial: t.bool("The page stopped at the read bound before it was full; `next_cursor` goes on."),
          retention_days: t.int(),
        })),
        "application/x-ndjson": { schema: ref("LogRecord") },
      },
    },
  },
  errors: [404],
});

/** `GET /admin/api-keys/:id`. */
export const GET_KEY_DETAIL = contract({
  method: "GET",
  path: "/admin/api-keys/:id",
  operationId: "getKeyDetail",
  tag: "Admin: keys",
  auth: "admin",
  provider: true,
  summary: "One key: state, rest reason, statistics and its last failed attempts",
  params: z.object({ id: z.string().check(z.describe("Key id.")) }),
  responses: ok(obj({
    key: {
      allOf: [
        ref("KeyView"),
        obj({
          models: {
            type: ["array", "null"],
            items: { type: "string" },
            description: "Models the key serves, when probed.",
          },
        }),
      ],
    },
    stats: obj({
      requests: t.int(),
      success: t.int(),
      failure: t.int(),
      client_errors: t.int(),
      success_rate: t.num("Percent."),
      prompt_tokens: t.int(),
      completion_tokens: t.int(),
      last_used: t.nullable("integer", "Epoch ms."),
    }),
    last_errors: t.arr(
      { allOf: [obj({ t: t.int(), request_id: t.str(), model: t.nullable("string") }), attempt] },
      "At most 10, newest first.",
    ),
  })),
  errors: [404],
});

/** Every log contract, in document order. */
export const ADMIN_LOG_CONTRACTS: Contract[] = [GET_LOGS, GET_KEY_DETAIL];
