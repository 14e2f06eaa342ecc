/**
 * Builds the OpenAPI 3.1 document from the route contracts (the same declarations the routes
 * validate their requests with), the pages' descriptors and the configured providers' proxy
 * routes. Adding an area is one contract file and one entry in `areas`; the sync test
 * (tests/openapi.test.ts) fails until a registered route is declared here.
 * @module
 */
import type { Provider } from "../providers/types.ts";
import { VERSION } from "../version.ts";
import { ADMIN_HEALTH_CONTRACTS } from "./admin_health.ts";
import { ADMIN_KEY_CONTRACTS } from "./admin_keys.ts";
import { ADMIN_LOG_CONTRACTS, LOG_RECORD } from "./admin_logs.ts";
import { ADMIN_STATS_CONTRACTS } from "./admin_stats.ts";
import { ADMIN_TOKEN_CONTRACTS } from "./admin_tokens.ts";
import { ERROR_RESPONSES, providerSchemas, SCHEMAS, SECURITY, SECURITY_SCHEMES } from "./components.ts";
import { routeDoc } from "./contract.ts";
import { PROXY_SCHEMAS, proxyDocs } from "./proxy.ts";
import { PAGE_DOCS, PUBLIC_CONTRACTS } from "./public.ts";
import { USER_SCHEMAS, userDocs } from "./users.ts";
import type { ParamDoc, ResponseDoc, RouteDoc, Schema } from "./types.ts";

/** The declared areas, built when a document is first asked for; proxy operations come from the providers. */
const areas = (): RouteDoc[][] => [
  [...PUBLIC_CONTRACTS.map(routeDoc), ...PAGE_DOCS],
  ADMIN_KEY_CONTRACTS.map(routeDoc),
  ADMIN_HEALTH_CONTRACTS.map(routeDoc),
  ADMIN_TOKEN_CONTRACTS.map(routeDoc),
  ADMIN_STATS_CONTRACTS.map(routeDoc),
  ADMIN_LOG_CONTRACTS.map(routeDoc),
];

/** Tag order and descriptions; a tag not listed here (a provider's) is appended. */
const TAGS: Array<[string, string]> = [
  ["Public", "No credential needed."],
  [
    "Admin: keys",
    "Upstream keys. `?provider=` (or `provider` in the body) selects the pool; default the first provider.",
  ],
  ["Admin: health", "Probing keys."],
  ["Admin: tokens", "Client tokens."],
  ["Admin: stats", "Usage figures."],
  ["Admin: cache", "The response cache."],
  ["Admin: logs", "The request log: one record per proxied request, kept `LOG_RETENTION_DAYS` days."],
  ["Users", "Self-service accounts: registration by mailed code, sign-in, the daily check-in."],
  ["Admin: users", "Managing self-service users (404 `users_disabled` when the user system is off)."],
  ["Pages", "HTML pages and their assets."],
];

/** The OpenAPI document, as a plain JSON-ready object. */
export type OpenApiDocument = Record<string, unknown> & {
  openapi: string;
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: Record<string, Record<string, unknown>>;
  tags: Array<{ name: string; description?: string }>;
};

/** Hono's `/a/:id` as OpenAPI's `/a/{id}`. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}");
}

/** What else than its providers decides which routes a pool serves. */
export interface DocFeatures {
  /** The user system is configured (`users` option). */
  users?: boolean;
}

/** Every route descriptor of a pool with these providers and features. */
export function routeDocs(providers: Provider[], features: DocFeatures = {}): RouteDoc[] {
  return [...areas().flat(), ...userDocs(features.users ?? false), ...proxyDocs(providers)];
}

/** The shared error responses a route gets: from its auth, `?provider=` and body, plus its own. */
function errorStatuses(d: RouteDoc): number[] {
  const s = new Set(d.errors ?? []);
  if (d.auth !== "public") s.add(401);
  if (d.auth === "client" || d.auth === "admin" || d.auth === "adminBearer") s.add(429); // too many wrong tokens from the address
  // An unknown provider, bad JSON, a field or a query parameter its contract refuses.
  if (d.provider || d.body?.content["application/json"] || d.params?.some((p) => p.in === "query")) s.add(400);
  if (d.body) s.add(413); // every body is read with a size limit
  return [...s].sort((a, b) => a - b);
}

function operation(d: RouteDoc): Record<string, unknown> {
  const params: Array<ParamDoc | { $ref: string }> = [];
  if (d.provider) params.push({ $ref: "#/components/parameters/provider" });
  params.push(...(d.params ?? []));
  const responses: Record<string, ResponseDoc | { $ref: string }> = { ...d.responses };
  for (const status of errorStatuses(d)) responses[String(status)] ??= { $ref: `#/components/responses/E${status}` };
  return {
    operationId: d.operationId,
    tags: [d.tag],
    summary: d.summary,
    ...(d.description ? { description: d.description } : {}),
    security: SECURITY[d.auth],
    ...(params.length ? { parameters: params } : {}),
    ...(d.body
      ? {
        requestBody: {
          required: d.body.required ?? true,
          content: d.body.content,
          ...(d.body.description ? { description: d.body.description } : {}),
        },
      }
      : {}),
    responses,
  };
}

/**
 * The document for these providers, served from `base` (the mount point, "" at the root).
 * @example
 * const doc = buildOpenApi(state.options.providers, "");
 */
export function buildOpenApi(providers: Provider[], base = "", features: DocFeatures = {}): OpenApiDocument {
  const paths: OpenApiDocument["paths"] = {};
  for (const d of routeDocs(providers, features)) {
    const item = paths[openApiPath(d.path)] ??= {};
    item[d.method.toLowerCase()] = operation(d);
  }
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(ERROR_RESPONSES)) responses[`E${status}`] = r;
  const ids = providers.map((p) => p.id);
  const used = new Set(
    Object.values(paths).flatMap((item) => Object.values(item).map((op) => (op.tags as string[])[0])),
  );
  const tags = [
    ...TAGS.filter(([name]) => used.delete(name)).map(([name, description]) => ({ name, description })),
    ...[...used].map((name) => ({ name, description: "Proxied to this provider with a client token." })),
  ];
  const parameters: Record<string, ParamDoc> = {
    provider: {
      name: "provider",
      in: "query",
      description: "Which provider's pool; default the first configured.",
      schema: { $ref: "#/components/schemas/ProviderId", default: ids[0] } as Schema,
    },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "ollama-api-pool",
      version: VERSION,
      description:
        'Many upstream LLM API keys behind one OpenAI-compatible endpoint. Every error is `{"error": {message, type, code}}`; ' +
        "a known path asked with another method answers 405 with `Allow`.",
    },
    servers: [{ url: base || "/" }],
    tags,
    paths,
    components: {
      schemas: {
        ...SCHEMAS,
        LogRecord: LOG_RECORD,
        ...providerSchemas({ providers: ids }),
        ...PROXY_SCHEMAS,
        ...(features.users ? USER_SCHEMAS : {}),
      },
      parameters,
      responses,
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}
