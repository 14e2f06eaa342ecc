/** Helpers shared by the routers: the Hono env type, JSON bodies, provider and paging params. @module */
import type { Context } from "hono";
import { badRequest } from "../errors.ts";
import { checkJsonDepth } from "../proxy/json_depth.ts";
import { readBody } from "../proxy/request.ts";
import type { ExecutionContextLike, PoolState } from "../state.ts";

/** Hono env of the pool's app. */
export type PoolEnv = { Bindings: Record<string, unknown> };

/** The execution context if the runtime gave one (Workers), else undefined. */
export function executionContext(c: Context<PoolEnv>): ExecutionContextLike | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}

/** The body as a JSON object; 400 with a precise message otherwise; 413 past `limit` bytes. */
export async function jsonBody(
  c: Context<PoolEnv>,
  state: PoolState,
  limit: number = state.options.maxBodyBytes,
): Promise<Record<string, unknown>> {
  const text = await readBody(c.req.raw, limit);
  if (text.trim() === "") return {};
  checkJsonDepth(text);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw badRequest(`request body is not valid JSON: ${(err as Error).message}`, "invalid_json");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw badRequest("request body must be a JSON object", "invalid_json");
  }
  return v as Record<string, unknown>;
}

/** `?provider=` or `body.provider`, default the first configured provider; 400 if unknown. */
export function providerParam(c: Context<PoolEnv>, state: PoolState, body?: Record<string, unknown>): string {
  const raw = c.req.query("provider") ?? body?.provider;
  if (raw === undefined || raw === "") return state.options.providers[0].id;
  if (typeof raw !== "string" || !state.providers.has(raw)) {
    const known = [...state.providers.keys()].join(", ");
    throw badRequest(`unknown provider ${JSON.stringify(raw)}; configured: ${known}`, "unknown_provider");
  }
  return raw;
}

/** A positive integer query parameter within bounds, or its default. */
export function intQuery(c: Context<PoolEnv>, name: string, def: number, max: number): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw badRequest(`'${name}' must be an integer from 1 to ${max}`, "invalid_paging");
  }
  return n;
}

/** Validated `page` (from 1) and `pageSize` (1..max). */
export function pageParams(c: Context<PoolEnv>, defaultSize: number, max: number): { page: number; pageSize: number } {
  return { page: intQuery(c, "page", 1, 1_000_000), pageSize: intQuery(c, "pageSize", defaultSize, max) };
}

/** A required non-empty string field of a body. */
export function stringField(body: Record<string, unknown>, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = body[n];
    if (typeof v === "string" && v.trim() !== "") return v.trim();
    if (v !== undefined && typeof v !== "string") throw badRequest(`'${n}' must be a string`, "invalid_field");
  }
  return undefined;
}
