/** Contracts of health checks, key verification and validated import (routes/admin_health.ts). @module */
import * as z from "zod/mini";
import { type Contract, contract } from "./contract.ts";
import { keyState, MAX_ID_LIST, paging, PAGING_CODES, text } from "./fields.ts";
import { json, obj, ref, type Schema, t } from "./types.ts";

/** One NDJSON line of a progress stream: progress lines, then one `done` (or `error`) line. */
const progressLine = (done: Schema): Schema => ({
  oneOf: [
    obj({ type: { const: "progress" } }, [], { additionalProperties: true, description: "Progress so far." }),
    { allOf: [obj({ type: { const: "done" } }), done], description: "The result, as the JSON answer would carry it." },
    obj({ type: { const: "error" }, error: ref("ErrorObject") }, [], {
      description: "The job failed; `error` is the OpenAI error object.",
    }),
  ],
});

const validatedImport = obj({
  provider: t.str(),
  total: t.int(),
  added: t.int(),
  existing: t.int(),
  valid: t.arr(obj({ id: t.str(), key: t.str("Masked."), username: t.nullable("string"), families: t.arr(t.str()) })),
  invalid: t.arr(
    obj({ line: t.int(), key: t.nullable("string", "Masked; null when the line did not parse."), reason: t.str() }),
  ),
  categories: { type: "object", additionalProperties: t.int(), description: "Valid keys per model family." },
});

const NDJSON_NOTE =
  'With `Accept: application/x-ndjson` the answer streams `{"type":"progress",…}` lines, then one `{"type":"done",…}` line.';
const TAG = "Admin: health";

/** `POST /admin/keys/health-check`. */
export const START_HEALTH_CHECK = contract({
  method: "POST",
  path: "/admin/keys/health-check",
  operationId: "startHealthCheck",
  tag: TAG,
  auth: "admin",
  provider: true,
  summary: "Probe keys (all, some ids, or those in a state)",
  description: `Starts a job and answers 202 at once, or waits with \`?wait=true\`. ${NDJSON_NOTE}`,
  query: z.object({
    wait: z.optional(
      z.enum(["true", "false"]).check(z.describe("`true`: answer when the job is done, with every result.")),
    ),
  }),
  body: z.object({
    ids: z.optional(z.array(z.string()).check(z.maxLength(MAX_ID_LIST), z.describe("Key ids to probe."))),
    status: z.optional(keyState().check(z.describe("Probe the keys in this state."))),
  }),
  bodyOptional: true,
  example: { status: "disabled" },
  responses: {
    "200": {
      description: "Finished (`?wait=true`, or the NDJSON stream).",
      content: {
        ...json(obj({ results: t.arr(ref("KeyCheck")) }, [], { allOf: [ref("HealthJob")] })),
        "application/x-ndjson": { schema: progressLine(ref("HealthJob")) },
      },
    },
    "202": {
      description: "Started; poll `progress`.",
      content: json({ allOf: [ref("HealthJob"), obj({ progress: t.str("Path of the job's progress endpoint.") })] }),
    },
  },
});

/** `GET /admin/keys/health-check/:jobId`. */
export const GET_HEALTH_CHECK = contract({
  method: "GET",
  path: "/admin/keys/health-check/:jobId",
  operationId: "getHealthCheck",
  tag: TAG,
  auth: "admin",
  summary: "A job's progress and a page of its results",
  description: "Only the latest 20 jobs are kept.",
  params: z.object({ jobId: z.string().check(z.describe("From the start call.")) }),
  query: z.object(paging(200, 1000)),
  codes: PAGING_CODES,
  responses: {
    "200": {
      description: "OK",
      content: json({
        allOf: [ref("HealthJob"), obj({ results: t.arr(ref("KeyCheck")), page: t.int(), pageSize: t.int() })],
      }),
    },
  },
  errors: [400, 404],
});

/** `POST /admin/verify-key`. */
export const VERIFY_KEY = contract({
  method: "POST",
  path: "/admin/verify-key",
  operationId: "verifyKey",
  tag: TAG,
  auth: "admin",
  provider: true,
  summary: "Probe one key without adding it",
  body: z.object({ apiKey: text("The upstream key.", 512) }),
  aliases: { api_key: "apiKey", key: "apiKey" },
  example: { apiKey: "sk-upstream-key" },
  responses: {
    "200": {
      description: "OK",
      content: json(obj({
        valid: t.bool(),
        status: t.nullable("integer", "Upstream status."),
        error: t.nullable("string"),
        apiKey: t.str("Masked."),
        families: t.arr(t.str()),
        models: t.arr(t.str()),
        timestamp: t.str("ISO time."),
      })),
    },
  },
});

/** `POST /admin/api-keys/import-with-validation`: the route reads its body itself, as the other imports. */
export const IMPORT_VALIDATED = contract({
  method: "POST",
  path: "/admin/api-keys/import-with-validation",
  operationId: "importApiKeysWithValidation",
  tag: "Admin: keys",
  auth: "admin",
  provider: true,
  summary: "Import an ollama.txt file, adding only keys whose probe passes",
  description: NDJSON_NOTE,
  body: z.object({ content: z.string().check(z.describe("The file's text.")) }),
  example: { content: "me@example.com----pw----session----sk-key" },
  responses: {
    "200": {
      description: "What was added and why the rest was not.",
      content: { ...json(validatedImport), "application/x-ndjson": { schema: progressLine(validatedImport) } },
    },
  },
});

/** Every health contract, in document order. */
export const ADMIN_HEALTH_CONTRACTS: Contract[] = [START_HEALTH_CHECK, GET_HEALTH_CHECK, VERIFY_KEY, IMPORT_VALIDATED];
