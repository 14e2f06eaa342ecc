/** Descriptors of health checks, key verification and validated import (routes/admin_health.ts). @module */
import { json, obj, ok, paging, query, ref, type RouteDoc, type Schema, t } from "./types.ts";

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

/** Health-check jobs, `/admin/verify-key`, `/admin/api-keys/import-with-validation`. */
export const ADMIN_HEALTH_DOCS: RouteDoc[] = [
  {
    method: "POST",
    path: "/admin/keys/health-check",
    operationId: "startHealthCheck",
    tag: "Admin: health",
    auth: "admin",
    provider: true,
    summary: "Probe keys (all, some ids, or those in a state)",
    description: `Starts a job and answers 202 at once, or waits with \`?wait=true\`. ${NDJSON_NOTE}`,
    params: [query("wait", t.enumOf(["true"]), "Answer when the job is done, with every result.")],
    body: {
      required: false,
      content: json(
        obj({ ids: t.arr(t.str()), status: ref("KeyState"), provider: ref("ProviderId") }, [
          "ids",
          "status",
          "provider",
        ]),
        { status: "disabled" },
      ),
    },
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
  },
  {
    method: "GET",
    path: "/admin/keys/health-check/:jobId",
    operationId: "getHealthCheck",
    tag: "Admin: health",
    auth: "admin",
    summary: "A job's progress and a page of its results",
    description: "Only the latest 20 jobs are kept.",
    params: [
      { name: "jobId", in: "path", required: true, description: "From the start call.", schema: t.str() },
      ...paging(200, 1000),
    ],
    responses: ok({
      allOf: [ref("HealthJob"), obj({ results: t.arr(ref("KeyCheck")), page: t.int(), pageSize: t.int() })],
    }),
    errors: [400, 404],
  },
  {
    method: "POST",
    path: "/admin/verify-key",
    operationId: "verifyKey",
    tag: "Admin: health",
    auth: "admin",
    provider: true,
    summary: "Probe one key without adding it",
    body: {
      content: json(obj({ apiKey: t.str("Also `api_key` or `key`."), provider: ref("ProviderId") }, ["provider"]), {
        apiKey: "sk-upstream-key",
      }),
    },
    responses: ok(obj({
      valid: t.bool(),
      status: t.nullable("integer", "Upstream status."),
      error: t.nullable("string"),
      apiKey: t.str("Masked."),
      families: t.arr(t.str()),
      models: t.arr(t.str()),
      timestamp: t.str("ISO time."),
    })),
  },
  {
    method: "POST",
    path: "/admin/api-keys/import-with-validation",
    operationId: "importApiKeysWithValidation",
    tag: "Admin: keys",
    auth: "admin",
    provider: true,
    summary: "Import an ollama.txt file, adding only keys whose probe passes",
    description: NDJSON_NOTE,
    body: {
      content: json(obj({ content: t.str("The file's text."), provider: ref("ProviderId") }, ["provider"]), {
        content: "me@example.com----pw----session----sk-key",
      }),
    },
    responses: {
      "200": {
        description: "What was added and why the rest was not.",
        content: { ...json(validatedImport), "application/x-ndjson": { schema: progressLine(validatedImport) } },
      },
    },
  },
];
