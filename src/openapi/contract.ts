/**
 * A route contract: one declaration per admin, user and public route, read twice — by the route
 * (src/routes/contract.ts validates the query, path and JSON body against it) and by the document
 * builder (document.ts turns it into an OpenAPI operation). The request rules are zod schemas;
 * their JSON Schema is what /openapi.json shows, and a refused request's message is written from
 * that same JSON Schema, so the answer, the check and the document say one thing.
 * @module
 */
import * as z from "zod/mini";
import type { MediaDoc, ParamDoc, ResponseDoc, RouteAuth, RouteDoc, Schema } from "./types.ts";

/** The object schemas a contract's query, path and body are written as. */
export type Fields = z.ZodMiniObject;

/** Everything a contract declares about one method + path. */
export interface ContractSpec<Q extends Fields, P extends Fields, B extends Fields> {
  method: RouteDoc["method"];
  /** As the pool serves it, from its root (`/admin/api-keys/:id`). */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  auth: RouteAuth;
  /** Takes `?provider=` (or `provider` in the body): the route gets the resolved, configured id. */
  provider?: boolean;
  /** Query parameters. Numbers arrive as text and are read as numbers where the schema wants one. */
  query?: Q;
  /** Path parameters. */
  params?: P;
  /** The JSON body; absent or empty is `{}`. */
  body?: B;
  /** An empty body is allowed (every field optional). Default: a body is required. */
  bodyOptional?: boolean;
  /** A valid body, shown in the document (and used by the test that tries each constraint). */
  example?: unknown;
  /** Other accepted names of body fields: `{apiKey: "api_key"}` reads `apiKey` when `api_key` is absent. */
  aliases?: Record<string, string>;
  /** Body media types besides JSON that the route reads itself (`text/plain`). */
  otherMedia?: Record<string, MediaDoc>;
  /** Bytes of body read at most; default the pool's `maxBodyBytes`. */
  bodyLimit?: number;
  /** Error `code` per field, where it is not the default (`missing_field` / `invalid_field`). */
  codes?: Record<string, string>;
  /** Success (and route-specific error) responses by status; shared errors are added by the builder. */
  responses: Record<string, ResponseDoc>;
  /** Shared error responses this route can give beyond the ones its auth implies (e.g. 404). */
  errors?: number[];
}

/** A declared route: its spec and, computed once, the JSON Schema of each of its parts. */
export interface Contract<Q extends Fields = Fields, P extends Fields = Fields, B extends Fields = Fields>
  extends ContractSpec<Q, P, B> {
  /** The JSON Schema of the query, path and body objects (what the document shows). */
  readonly json: { query?: Schema; params?: Schema; body?: Schema };
}

/** Declares a route contract. */
export function contract<
  Q extends Fields = z.ZodMiniObject<Record<never, never>>,
  P extends Fields = z.ZodMiniObject<Record<never, never>>,
  B extends Fields = z.ZodMiniObject<Record<never, never>>,
>(spec: ContractSpec<Q, P, B>): Contract<Q, P, B> {
  // Converted on first use (a refused request or the document), then kept: one per declared
  // route, a fixed set, so the cache is bounded by the routes the source declares.
  let json: Contract["json"] | undefined;
  return {
    ...spec,
    get json() {
      return json ??= {
        ...(spec.query ? { query: jsonSchema(spec.query) } : {}),
        ...(spec.params ? { params: jsonSchema(spec.params) } : {}),
        ...(spec.body ? { body: jsonSchema(spec.body) } : {}),
      };
    },
  };
}

/** What a route gets from a valid request. */
export type Input<C> = C extends Contract<infer Q, infer P, infer B>
  ? { query: z.output<Q>; params: z.output<P>; body: z.output<B> }
  : never;

/** The safe-integer bounds zod adds to every integer: implied by `integer`, noise in a document. */
const SAFE = Number.MAX_SAFE_INTEGER;

/**
 * The JSON Schema (2020-12, as OpenAPI 3.1 uses it) of a request schema, as the client sends it.
 * A field marked `x-ref: Name` becomes `$ref` to that component (the provider id, whose values
 * are the configuration's).
 */
export function jsonSchema(schema: z.ZodMiniType): Schema {
  const out = z.toJSONSchema(schema, { io: "input", target: "draft-2020-12", unrepresentable: "any" }) as Schema;
  delete out.$schema;
  const tidy = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(tidy);
    if (!v || typeof v !== "object") return v;
    const o = v as Schema;
    if (typeof o["x-ref"] === "string") {
      const ref: Schema = { $ref: `#/components/schemas/${o["x-ref"]}` };
      return typeof o.description === "string" ? { ...ref, description: o.description } : ref;
    }
    const copy: Schema = {};
    for (const [k, x] of Object.entries(o)) {
      if ((k === "maximum" && x === SAFE) || (k === "minimum" && x === -SAFE)) continue;
      copy[k] = tidy(x);
    }
    // `T or null`: the description and default of T belong to the field, where readers look.
    const alts = copy.anyOf as Schema[] | undefined;
    const inner = alts?.length === 2 && alts.some((a) => a.type === "null")
      ? alts.find((a) => a.type !== "null")
      : undefined;
    for (const k of ["description", "default"]) {
      if (inner && inner[k] !== undefined && copy[k] === undefined) {
        copy[k] = inner[k];
        delete inner[k];
      }
    }
    return copy;
  };
  return tidy(out) as Schema;
}

/** The route's descriptor for the document builder. */
export function routeDoc(c: Contract): RouteDoc {
  const { query, params, body } = c.json;
  const docParams: ParamDoc[] = [
    ...paramDocs(params, "path"),
    ...paramDocs(query, "query"),
  ];
  const aliasNote = c.aliases && Object.keys(c.aliases).length
    ? `Also accepted: ${Object.entries(c.aliases).map(([a, f]) => `\`${a}\` for \`${f}\``).join(", ")}.`
    : undefined;
  return {
    method: c.method,
    path: c.path,
    operationId: c.operationId,
    tag: c.tag,
    summary: c.summary,
    ...(c.description ? { description: c.description } : {}),
    auth: c.auth,
    ...(c.provider ? { provider: true } : {}),
    ...(docParams.length ? { params: docParams } : {}),
    ...(body
      ? {
        body: {
          content: {
            "application/json": c.example === undefined
              ? { schema: bodyWithProvider(c, body) }
              : { schema: bodyWithProvider(c, body), example: c.example },
            ...c.otherMedia,
          },
          ...(c.bodyOptional ? { required: false } : {}),
          ...(aliasNote ? { description: aliasNote } : {}),
        },
      }
      : {}),
    responses: c.responses,
    ...(c.errors ? { errors: c.errors } : {}),
  };
}

/** A route taking `provider` reads it from the body too: the body schema says so. */
function bodyWithProvider(c: Contract, body: Schema): Schema {
  if (!c.provider) return body;
  const properties = {
    ...(body.properties as Record<string, Schema>),
    provider: { $ref: "#/components/schemas/ProviderId", description: "Which provider's pool, as `?provider=`." },
  };
  return { ...body, properties };
}

function paramDocs(schema: Schema | undefined, where: "query" | "path"): ParamDoc[] {
  if (!schema) return [];
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return Object.entries((schema.properties ?? {}) as Record<string, Schema>).map(([name, s]) => {
    const { description, ...rest } = s;
    return {
      name,
      in: where,
      description: typeof description === "string" ? description : name,
      schema: rest,
      ...(where === "path" || required.has(name) ? { required: true } : {}),
    };
  });
}

/** One refused request part: the field, and whether it was missing or wrong. */
export interface Refusal {
  field: string;
  missing: boolean;
  message: string;
}

/**
 * Checks `value` against a part of the contract; the first problem, described in the words of
 * the field's JSON Schema (`'ttl' must be an integer of at least 1`), or the parsed value.
 */
export function check<T extends Fields>(
  schema: T,
  json: () => Schema | undefined,
  value: unknown,
): { ok: true; value: z.output<T> } | { ok: false; refusal: Refusal } {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  const field = issue.path.length ? String(issue.path[0]) : "";
  const fieldSchema = ((json()?.properties ?? {}) as Record<string, Schema>)[field];
  const given = field && value && typeof value === "object" ? (value as Record<string, unknown>)[field] : value;
  const missing = given === undefined;
  const what = missing
    ? "is required"
    : issue.code === "custom"
    ? issue.message
    : fieldSchema
    ? `must be ${phrase(fieldSchema)}`
    : "is not valid";
  return { ok: false, refusal: { field, missing, message: field ? `'${field}' ${what}` : `request ${what}` } };
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;

/** A JSON Schema in words, as "must be …" continues it. */
export function phrase(s: Schema): string {
  if (typeof s.$ref === "string") return `a valid ${s.$ref.split("/").pop()}`;
  if (Array.isArray(s.enum)) return `one of ${s.enum.map((x) => JSON.stringify(x)).join(", ")}`;
  if ("const" in s) return JSON.stringify(s.const);
  const alternatives = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (alternatives) {
    const nonNull = alternatives.filter((a) => a.type !== "null");
    const words = nonNull.map(phrase).join(" or ");
    return nonNull.length < alternatives.length ? `${words}, or null` : words;
  }
  const range = (unit: string, min?: unknown, max?: unknown): string => {
    if (typeof min === "number" && typeof max === "number") return ` from ${min} to ${max}${unit}`;
    if (typeof min === "number") return ` of at least ${min}${unit}`;
    if (typeof max === "number") return ` of at most ${max}${unit}`;
    return "";
  };
  switch (s.type) {
    case "integer":
      return `an integer${range("", s.minimum, s.maximum)}`;
    case "number":
      return `a number${range("", s.minimum, s.maximum)}`;
    case "boolean":
      return "true or false";
    case "string": {
      // "a string" would read as a contradiction to a client who sent text that is not a time.
      if (s.format === "date-time") return "an ISO 8601 time";
      const { minLength: min, maxLength: max } = s as { minLength?: number; maxLength?: number };
      const base = min === 1 ? "a non-empty string" : "a string";
      const size = min === 1
        ? (max === undefined ? "" : ` of at most ${plural(max, "character")}`)
        : min !== undefined && max !== undefined
        ? ` of ${min} to ${plural(max, "character")}`
        : min !== undefined
        ? ` of at least ${plural(min, "character")}`
        : max !== undefined
        ? ` of at most ${plural(max, "character")}`
        : "";
      return `${base}${size}${typeof s.pattern === "string" ? ` matching ${s.pattern}` : ""}`;
    }
    case "array": {
      const { minItems: min, maxItems: max } = s as { minItems?: number; maxItems?: number };
      const count = min !== undefined && max !== undefined
        ? ` of ${min} to ${max} items`
        : max !== undefined
        ? ` of at most ${plural(max, "item")}`
        : min !== undefined
        ? ` of at least ${plural(min, "item")}`
        : "";
      return `a list${count}${s.items ? `, each ${phrase(s.items as Schema)}` : ""}`;
    }
    case "object":
      return "an object";
    default:
      return "valid";
  }
}
