/** Admin: client tokens — list with usage, create (shown once), revoke. @module */
import { Hono } from "hono";
import { badRequest, PoolError } from "../errors.ts";
import { statsRecord } from "../stats/recorder.ts";
import type { PoolState } from "../state.ts";
import { jsonBody, type PoolEnv, stringField } from "./context.ts";

export function adminTokenRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();

  app.get("/tokens", async (c) => {
    const records = state.tokens.list();
    const usage = await state.stats.read(records.map((r) => statsRecord.token(r.id)));
    const tokens = records.map((r, i) => ({
      ...state.tokens.view(r),
      requests: usage[i].requests ?? 0,
      promptTokens: usage[i].promptTokens ?? 0,
      completionTokens: usage[i].completionTokens ?? 0,
      lastUsed: usage[i].lastUsed ?? null,
    }));
    return c.json({ tokens, total: tokens.length });
  });

  app.post("/tokens", async (c) => {
    const body = await jsonBody(c, state);
    const name = stringField(body, "name");
    if (!name) throw badRequest("'name' is required", "missing_field");
    if (name.length > 100) throw badRequest("'name' must be at most 100 characters", "invalid_field");
    const exp = body.expiresIn;
    if (exp !== undefined && exp !== null && (typeof exp !== "number" || !Number.isInteger(exp) || exp < 1)) {
      throw badRequest("'expiresIn' must be a positive whole number of seconds", "invalid_field");
    }
    const { token, record } = await state.tokens.create(name, (exp as number | null) ?? undefined);
    return c.json({ token, id: record.id, name: record.name, expiresAt: record.expiresAt ?? null }, 201);
  });

  app.delete("/tokens", async (c) => {
    const body = await jsonBody(c, state);
    const given = stringField(body, "id", "token");
    if (!given) throw badRequest("'id' (or 'token') is required", "missing_field");
    const rec = await state.tokens.revoke(given);
    if (!rec) throw new PoolError(404, "token_not_found", "no such client token");
    return c.json({ success: true, id: rec.id });
  });
  return app;
}
