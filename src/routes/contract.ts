/**
 * Serves a route contract (src/openapi/contract.ts): registers its handler at its method and
 * path, and hands it the query, path parameters and JSON body only once they passed the
 * contract's schemas — a refused request gets 400 naming the field, in the pool's error shape.
 * @module
 */
import type { Context, Hono } from "hono";
import { PoolError } from "../errors.ts";
import { check, type Contract, type Fields, type Input } from "../openapi/contract.ts";
import type { Schema } from "../openapi/types.ts";
import type { PoolState } from "../state.ts";
import { jsonBody, type PoolEnv, providerParam } from "./context.ts";

/** A valid request's parts, and the provider it selects (`""` for routes without one). */
export type Valid<C> = Input<C> & { provider: string };

/** Registers `handler` for the contract's method and path; `mount` is where `app` is mounted. */
export function serve<C extends Contract>(
  app: Hono<PoolEnv>,
  mount: string,
  state: PoolState,
  route: C,
  handler: (c: Context<PoolEnv>, input: Valid<C>) => Response | Promise<Response>,
): void {
  if (!route.path.startsWith(mount)) throw new Error(`${route.path} is not under ${mount}`);
  app.on(
    route.method,
    route.path.slice(mount.length) || "/",
    async (c) => handler(c, await readInput(c, state, route)),
  );
}

/** The contract's parts of this request, validated; 400 naming the first wrong field. */
export async function readInput<C extends Contract>(
  c: Context<PoolEnv>,
  state: PoolState,
  route: C,
): Promise<Valid<C>> {
  const query = route.query ? valid(route, "query", route.query, queryValues(c, route)) : {};
  const params = route.params ? valid(route, "params", route.params, c.req.param()) : {};
  let raw: Record<string, unknown> = {};
  let body: unknown = {};
  if (route.body) {
    raw = await jsonBody(c, state, route.bodyLimit);
    for (const [alias, field] of Object.entries(route.aliases ?? {})) {
      if (raw[field] === undefined && raw[alias] !== undefined) raw = { ...raw, [field]: raw[alias] };
    }
    body = valid(route, "body", route.body, raw);
  }
  const provider = route.provider ? providerParam(c, state, raw) : "";
  return { query, params, body, provider } as Valid<C>;
}

function valid(route: Contract, part: "query" | "params" | "body", schema: Fields, value: unknown): unknown {
  const r = check(schema, () => route.json[part], value);
  if (r.ok) return r.value;
  const { field, missing, message } = r.refusal;
  throw new PoolError(400, route.codes?.[field] ?? (missing ? "missing_field" : "invalid_field"), message);
}

/** Does this JSON Schema accept a number? Query values are text; such fields are read as numbers. */
function numeric(s: Schema | undefined): boolean {
  if (!s) return false;
  if (s.type === "integer" || s.type === "number") return true;
  return ((s.anyOf ?? s.oneOf ?? []) as Schema[]).some(numeric);
}

/** The declared query parameters present (an empty one counts as absent), numbers as numbers. */
function queryValues(c: Context<PoolEnv>, route: Contract): Record<string, unknown> {
  const props = (route.json.query?.properties ?? {}) as Record<string, Schema>;
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(props)) {
    const raw = c.req.query(name);
    if (raw === undefined || raw === "") continue;
    out[name] = numeric(s) && /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  }
  return out;
}
