/**
 * The small typed descriptor each area writes for its routes, and helpers to write them
 * briefly. The builder (document.ts) turns descriptors into OpenAPI 3.1 operations; the sync
 * test holds them against the routes the app really registers.
 * @module
 */

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it); kept loose on purpose. */
export type Schema = Record<string, unknown>;

/** Who may call a route; the builder turns it into a `security` requirement. */
export type RouteAuth =
  /** No credential. */
  | "public"
  /** A client token (proxy routes). */
  | "client"
  /** The admin token, or a dashboard session cookie (`/admin/*`). */
  | "admin"
  /** The admin token only: the route checks the bearer itself, no cookie (`/metrics`). */
  | "adminBearer"
  /** A user's session token from `/api/auth/login` or `/register`. */
  | "user";

/** A query, header or path parameter. */
export interface ParamDoc {
  name: string;
  in: "query" | "path" | "header";
  description: string;
  schema: Schema;
  required?: boolean;
}

/** One media type of a body: its schema and, optionally, an example. */
export interface MediaDoc {
  schema: Schema;
  example?: unknown;
}

/** A response: a description and, per media type, its body. No content means an empty body. */
export interface ResponseDoc {
  description: string;
  content?: Record<string, MediaDoc>;
  headers?: Record<string, { description: string; schema: Schema }>;
}

/** Everything the document says about one method + path. */
export interface RouteDoc {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** As Hono registers it, relative to the pool's root (`/admin/keys/health-check/:jobId`). */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  auth: RouteAuth;
  /** Takes `?provider=` (the shared parameter whose enum is the configured provider ids). */
  provider?: boolean;
  params?: ParamDoc[];
  /** Request body per media type; `required` unless it is `false`. */
  body?: { content: Record<string, MediaDoc>; required?: boolean; description?: string };
  /** Success (and route-specific error) responses by status; shared errors are added by the builder. */
  responses: Record<string, ResponseDoc>;
  /** Shared error responses this route can give beyond the ones its auth implies (e.g. 404). */
  errors?: number[];
}

/** `{$ref}` to a component schema. */
export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

/** A JSON body: `{"application/json": {schema, example}}`. */
export function json(schema: Schema, example?: unknown): Record<string, MediaDoc> {
  return { "application/json": example === undefined ? { schema } : { schema, example } };
}

/** An object schema whose listed properties are all required unless named in `optional`. */
export function obj(properties: Record<string, Schema>, optional: string[] = [], extra: Schema = {}): Schema {
  const required = Object.keys(properties).filter((k) => !optional.includes(k));
  return { type: "object", properties, ...(required.length ? { required } : {}), ...extra };
}

/** Schema shorthands; `nullable` uses the 3.1 type list rather than 3.0's `nullable: true`. */
export const t = {
  str: (description?: string): Schema => (description ? { type: "string", description } : { type: "string" }),
  int: (description?: string): Schema => (description ? { type: "integer", description } : { type: "integer" }),
  num: (description?: string): Schema => (description ? { type: "number", description } : { type: "number" }),
  bool: (description?: string): Schema => (description ? { type: "boolean", description } : { type: "boolean" }),
  arr: (
    items: Schema,
    description?: string,
  ): Schema => (description ? { type: "array", items, description } : { type: "array", items }),
  nullable: (
    type: "string" | "integer" | "number",
    description?: string,
  ): Schema => (description ? { type: [type, "null"], description } : { type: [type, "null"] }),
  enumOf: (
    values: string[],
    description?: string,
  ): Schema => (description ? { type: "string", enum: values, description } : { type: "string", enum: values }),
  /** Any JSON object: bodies the pool forwards without reading all of. */
  open: (description?: string): Schema => ({
    type: "object",
    additionalProperties: true,
    ...(description ? { description } : {}),
  }),
};

/** A query parameter. */
export function query(name: string, schema: Schema, description: string): ParamDoc {
  return { name, in: "query", description, schema };
}

/** `page` and `pageSize` with the route's own default and maximum. */
export function paging(defaultSize: number, max: number): ParamDoc[] {
  return [
    query("page", { type: "integer", minimum: 1, maximum: 1_000_000, default: 1 }, "Page number, from 1."),
    query(
      "pageSize",
      { type: "integer", minimum: 1, maximum: max, default: defaultSize },
      `Items per page, 1 to ${max}.`,
    ),
  ];
}

/** A 200 JSON response. */
export function ok(schema: Schema, description = "OK", status = "200"): Record<string, ResponseDoc> {
  return { [status]: { description, content: json(schema) } };
}

/** What the builder needs to know about the pool it documents. */
export interface DocContext {
  /** Configured provider ids, the first being the default of `?provider=`. */
  providers: string[];
}
