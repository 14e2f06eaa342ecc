/** Helpers shared by the routers: the Hono env type, JSON bodies, the provider parameter. @module */
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
    throw badRequest(
      `'provider' must be a configured provider (${known}), not ${JSON.stringify(raw)}`,
      "unknown_provider",
    );
  }
  return raw;
}
