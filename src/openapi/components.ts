/**
 * Schemas, security schemes and error responses shared by every area. The error object is the
 * one `PoolError.toJSON()` writes (errors.ts); every error response refers to it.
 * @module
 */
import type { PoolErrorType } from "../errors.ts";
import { KEY_STATES } from "./fields.ts";
import { type DocContext, obj, ref, type ResponseDoc, type Schema, t } from "./types.ts";

// Typed as a record over PoolErrorType so a new error type fails to compile until it is listed.
const ERROR_TYPES: Record<PoolErrorType, true> = {
  invalid_request_error: true,
  authentication_error: true,
  permission_error: true,
  not_found_error: true,
  rate_limit_error: true,
  upstream_error: true,
  server_error: true,
};

const keyCounts = obj({ total: t.int(), active: t.int(), cooling: t.int(), disabled: t.int() });
const keyState = t.enumOf([...KEY_STATES]);
const invalidEntry = obj({ line: t.int("1-based line (or list index) of the entry"), reason: t.str() });

/** Component schemas that do not depend on the configuration. */
export const SCHEMAS: Record<string, Schema> = {
  ErrorObject: obj({
    message: t.str("What went wrong, for people."),
    type: t.enumOf(Object.keys(ERROR_TYPES), "OpenAI error type, derived from the status."),
    code: t.str("Stable machine-readable code, e.g. `invalid_api_key`, `no_active_keys`."),
    request_id: t.str("On the proxy routes: the request's id, as in `x-request-id` and the request log."),
  }, ["request_id"]),
  Error: obj({ error: ref("ErrorObject") }, [], { description: "The OpenAI error shape every error of the pool has." }),
  KeyCounts: keyCounts,
  KeyState: keyState,
  InvalidEntry: invalidEntry,
  KeyView: obj({
    id: t.str("Stable id (a hash of provider and key)."),
    api_key: t.str("The key, masked (`abcd…wxyz`)."),
    username: t.nullable("string", "Label (the email of an ollama.txt line)."),
    status: ref("KeyState"),
    failures: t.int("Consecutive failures."),
    reason: t.nullable("string", "Why the key rests or is disabled."),
    until: t.nullable("integer", "Epoch ms the rest or disable ends."),
    usage_limit: t.nullable(
      "string",
      "The usage cap (`session`, `hourly`, `daily`, `weekly`, `monthly`) the key's account last reported; cleared by a success.",
    ),
    created_at: t.int("Epoch ms."),
    expires_at: t.nullable("integer", "Epoch ms, when added with a ttl."),
    priority: t.int("Tier: keys of a higher priority take every request while one of them is ready (default 0)."),
    weight: t.int("Share of its tier's requests relative to the tier's other keys (default 1)."),
    models: {
      type: ["array", "null"],
      items: t.str(),
      description: "Models the key's own list names (from a probe); null = not known, any model is tried.",
    },
    usage: {
      type: ["object", "null"],
      description:
        "Shares (0–1) of the key's session and weekly limits from usage polling; null when polling is off or the key was not polled yet.",
      properties: { session: t.nullable("number"), weekly: t.nullable("number"), checked_at: t.int("Epoch ms.") },
      required: ["session", "weekly", "checked_at"],
    },
  }),
  ImportResult: obj({
    provider: t.str(),
    total: t.int("Entries read."),
    added: t.int(),
    existing: t.int("Already in the pool."),
    invalid: t.arr(ref("InvalidEntry")),
  }),
  TokenView: obj({
    id: t.str(),
    name: t.str(),
    token: t.str("The token, masked; the full token is shown only by the create call."),
    createdAt: t.int("Epoch ms."),
    expiresAt: t.nullable("integer", "Epoch ms."),
    expired: t.bool(),
    allowedModels: {
      type: ["array", "null"],
      items: t.str(),
      description: "Model names or `prefix*` patterns; null allows all.",
    },
    rpm: t.nullable("integer", "Requests per minute."),
    tpm: t.nullable("integer", "Tokens per minute."),
    quota: t.nullable("integer", "Total tokens."),
    userId: t.nullable("string", "The self-service user the token belongs to, if any."),
    disabled: t.bool("Switched off with its user (refused, not revoked)."),
  }),
  KeyCheck: obj({
    id: t.str(),
    key: t.str("Masked."),
    healthy: t.bool(),
    status: t.nullable("integer", "Upstream HTTP status."),
    error: t.nullable("string"),
    families: t.arr(t.str()),
    ms: t.int(),
    timestamp: t.int("Epoch ms."),
  }),
  HealthJob: obj({
    jobId: t.str(),
    provider: t.str(),
    total: t.int(),
    done: t.int(),
    healthy: t.int(),
    unhealthy: t.int(),
    running: t.bool(),
    startedAt: t.int("Epoch ms."),
    finishedAt: t.nullable("integer", "Epoch ms."),
    results: t.arr(ref("KeyCheck"), "Present once asked for (wait, NDJSON, or the job endpoint)."),
  }, ["results"]),
  ModelCount: obj({ model: t.str(), requests: t.int() }),
  ModelRow: obj({
    model: t.str(),
    requests: t.int(),
    success: t.int(),
    promptTokens: t.int(),
    completionTokens: t.int(),
  }),
  HourRow: obj({ hour: t.str("ISO hour start, UTC."), requests: t.int(), success: t.int(), failure: t.int() }),
  ObjectAny: { type: "object", additionalProperties: true, description: "Any JSON object, passed through." },
  Success: obj({ success: { const: true } }, [], { description: "Acknowledgement of a change." }),
};

/** The schemas that name the configured providers. */
export function providerSchemas(ctx: DocContext): Record<string, Schema> {
  return { ProviderId: { type: "string", enum: ctx.providers, description: "A configured provider." } };
}

/** How the three credentials are presented. */
export const SECURITY_SCHEMES: Record<string, Schema> = {
  clientToken: {
    type: "http",
    scheme: "bearer",
    description: "A client token from `POST /admin/tokens` (also accepted as `x-api-key`).",
  },
  clientApiKey: {
    type: "apiKey",
    in: "header",
    name: "x-api-key",
    description: "The client token in `x-api-key`, as Anthropic-style clients send it.",
  },
  adminToken: { type: "http", scheme: "bearer", description: "The `ADMIN_TOKEN` (also accepted as `x-api-key`)." },
  userSession: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "A user's session token from `POST /api/auth/login` or `/register`.",
  },
  adminSession: {
    type: "apiKey",
    in: "cookie",
    name: "pool_admin",
    description:
      "The dashboard session cookie set by `POST /ui/login`. Writes with it must also send `x-pool-ui: 1`, which a cross-site page cannot.",
  },
};

/** Security requirement per {@link RouteAuth}: any one entry suffices. */
export const SECURITY: Record<string, Array<Record<string, string[]>>> = {
  public: [],
  client: [{ clientToken: [] }, { clientApiKey: [] }],
  admin: [{ adminToken: [] }, { adminSession: [] }],
  adminBearer: [{ adminToken: [] }],
  user: [{ userSession: [] }],
};

const errorBody = { "application/json": { schema: ref("Error") } };

/** Shared error responses, by status. */
export const ERROR_RESPONSES: Record<string, ResponseDoc> = {
  "400": {
    description:
      "Bad JSON (or nested deeper than 128 levels), a missing, invalid or too long field or parameter, or an unknown provider.",
    content: errorBody,
  },
  "401": { description: "Missing or invalid credential.", content: errorBody },
  "403": {
    description:
      "Forbidden: the client token may not use this model (`allowedModels`), the user is disabled, or the Turnstile challenge failed.",
    content: errorBody,
  },
  "404": { description: "No such item.", content: errorBody },
  "409": { description: "Already exists.", content: errorBody },
  "413": { description: "Body larger than `maxBodyBytes`.", content: errorBody },
  "429": {
    description:
      "Rate limit or quota of the client IP or token reached, too many wrong tokens from the client address, or every key is rate limited upstream.",
    content: errorBody,
    headers: { "retry-after": { description: "Seconds to wait.", schema: t.int() } },
  },
  "503": {
    description: "No usable key: every attempt failed, or none is active. Carries the last upstream reason.",
    content: errorBody,
  },
};
