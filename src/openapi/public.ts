/** Contracts of the public routes, /metrics and the docs; descriptors of the pages. @module */
import { type Contract, contract } from "./contract.ts";
import { obj, ok, ref, type ResponseDoc, type RouteDoc, t } from "./types.ts";

const HTML: ResponseDoc = { description: "An HTML page.", content: { "text/html": { schema: t.str() } } };
const redirect = (what: string): Record<string, ResponseDoc> => ({
  "303": { description: what, headers: { location: { description: "The dashboard.", schema: t.str() } } },
});

/** `GET /health`. */
export const HEALTH = contract({
  method: "GET",
  path: "/health",
  operationId: "getHealth",
  tag: "Public",
  auth: "public",
  summary: "Liveness, key counts per provider, storage state",
  responses: ok(obj({
    status: t.enumOf(["ok", "degraded"]),
    version: t.str(),
    providers: {
      type: "object",
      additionalProperties: obj({
        enabled: t.bool(),
        configured: t.bool("Has at least one key."),
        keys: ref("KeyCounts"),
      }),
    },
    storage: obj({
      status: t.enumOf(["ok", "degraded"]),
      driver: t.str(),
      atomicCounters: t.bool(),
      error: t.str(),
      since: t.int("Epoch ms."),
      pendingStats: t.int("Counter records not yet written."),
      droppedStats: t.int(),
      pendingLogs: t.int("Request-log records not yet written."),
      droppedLogs: t.int("Request-log records lost to a full buffer."),
      quarantined: t.int("Unreadable records set aside under quarantine: (degraded while any)."),
    }, ["error", "since", "quarantined"]),
    timestamp: t.str("ISO time."),
  })),
});

/** `GET /admin/public-stats`. */
export const PUBLIC_STATS = contract({
  method: "GET",
  path: "/admin/public-stats",
  operationId: "getPublicStats",
  tag: "Public",
  auth: "public",
  provider: true,
  summary: "Public usage figures of one provider (no key, token or label)",
  responses: ok(obj({
    provider: t.str(),
    total_requests: t.int(),
    success_count: t.int(),
    failure_count: t.int(),
    success_rate: t.num("Percent."),
    total_tokens: t.int(),
    keys: ref("KeyCounts"),
    top_models: t.arr(ref("ModelCount"), "At most 10."),
    top_models_24h: t.arr(ref("ModelCount"), "At most 3, today and yesterday (UTC)."),
    hourly: t.arr(ref("HourRow"), "24 rows, oldest first."),
    timestamp: t.str("ISO time."),
  })),
});

/** `GET /metrics`. */
export const METRICS = contract({
  method: "GET",
  path: "/metrics",
  operationId: "getMetrics",
  tag: "Admin: stats",
  auth: "adminBearer",
  summary: "Prometheus metrics of this process",
  description: "Checks the bearer itself: the dashboard cookie is not accepted here.",
  responses: {
    "200": { description: "Prometheus text format 0.0.4.", content: { "text/plain": { schema: t.str() } } },
  },
});

/** `GET /openapi.json`. */
export const OPENAPI_JSON = contract({
  method: "GET",
  path: "/openapi.json",
  operationId: "getOpenApi",
  tag: "Public",
  auth: "public",
  summary: "This document",
  responses: ok({ type: "object", description: "OpenAPI 3.1." }),
});

/** `GET /api-docs`. */
export const API_DOCS = contract({
  method: "GET",
  path: "/api-docs",
  operationId: "getApiDocs",
  tag: "Pages",
  auth: "public",
  summary: "This document as a page",
  responses: { "200": HTML },
});

/** Every public contract, in document order. */
export const PUBLIC_CONTRACTS: Contract[] = [HEALTH, PUBLIC_STATS, METRICS, OPENAPI_JSON, API_DOCS];

/** The dashboard and stats pages, the login form, their assets (routes/pages.ts): HTML. */
export const PAGE_DOCS: RouteDoc[] = [
  {
    method: "GET",
    path: "/stats",
    operationId: "getStatsPage",
    tag: "Pages",
    auth: "public",
    provider: true,
    summary: "Public usage page (refreshes itself)",
    responses: { "200": HTML },
  },
  {
    method: "GET",
    path: "/",
    operationId: "getDashboard",
    tag: "Pages",
    auth: "public",
    provider: true,
    summary: "Admin dashboard (a login form without a session)",
    params: [{
      name: "tab",
      in: "query",
      description: "Dashboard tab.",
      schema: t.enumOf(
        ["keys", "import", "tokens", "analytics", "health", "users"],
        "`users` only when the user system is on.",
      ),
    }],
    responses: { "200": HTML },
  },
  {
    method: "POST",
    path: "/ui/login",
    operationId: "login",
    tag: "Pages",
    auth: "public",
    summary: "Dashboard login: sets the session cookie",
    body: {
      content: { "application/x-www-form-urlencoded": { schema: obj({ token: t.str("The admin token.") }) } },
    },
    responses: {
      ...redirect("Logged in; `Set-Cookie: pool_admin=…` (HttpOnly, SameSite=Strict)."),
      "401": { ...HTML, description: "Wrong token: the form again." },
      "429": {
        ...HTML,
        description: "Over 20 attempts from this client address in 15 minutes: the form with the wait (`Retry-After`).",
      },
    },
  },
  {
    method: "POST",
    path: "/ui/logout",
    operationId: "logout",
    tag: "Pages",
    auth: "public",
    summary: "Dashboard logout: clears the session cookie",
    responses: redirect("Logged out."),
  },
  {
    method: "GET",
    path: "/assets/:name",
    operationId: "getAsset",
    tag: "Pages",
    auth: "public",
    summary: "A stylesheet or script of the pages",
    params: [
      { name: "name", in: "path", required: true, description: "Asset name, e.g. `app.css`.", schema: t.str() },
      {
        name: "v",
        in: "query",
        description: "Content hash; with the current one the answer is immutable.",
        schema: t.str(),
      },
    ],
    responses: {
      "200": {
        description: "The asset.",
        content: { "text/css": { schema: t.str() }, "text/javascript": { schema: t.str() } },
      },
      "304": { description: "Not modified (`If-None-Match`)." },
    },
    errors: [404],
  },
];
