/** Admin: client tokens — list with usage, create (shown once), revoke. @module */
import { Hono } from "hono";
import type { TokenPolicy } from "../auth/types.ts";
import { badRequest, PoolError } from "../errors.ts";
import { statsRecord } from "../stats/recorder.ts";
import type { PoolState } from "../state.ts";
import { jsonBody, type PoolEnv, stringField } from "./context.ts";

type PolicyPatch = { [K in keyof TokenPolicy]?: TokenPolicy[K] | null };

/** Reads the policy fields of a body; `null` clears a field (PATCH), absent leaves it. */
function policyFields(body: Record<string, unknown>): PolicyPatch {
  const out: PolicyPatch = {};
  for (const k of ["rpm", "tpm", "quota"] as const) {
    const v = body[k];
    if (v === undefined || v === null) {
      if (v === null) out[k] = null;
      continue;
    }
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
      throw badRequest(`'${k}' must be a positive whole number or null`, "invalid_field");
    }
    out[k] = v;
  }
  const m = body.allowedModels;
  if (m === null) out.allowedModels = null;
  else if (m !== undefined) {
    if (!Array.isArray(m) || m.length > 200 || m.some((x) => typeof x !== "string" || x === "" || x.length > 200)) {
      throw badRequest(
        "'allowedModels' must be a list of model names or 'prefix*' patterns (at most 200)",
        "invalid_field",
      );
    }
    out.allowedModels = m as string[];
  }
  return out;
}

function expiresIn(body: Record<string, unknown>): number | undefined {
  const exp = body.expiresIn;
  if (exp === undefined || exp === null) return undefined;
  if (typeof exp !== "number" || !Number.isInteger(exp) || exp < 1) {
    throw badRequest("'expiresIn' must be a positive whole number of seconds", "invalid_field");
  }
  return exp;
}

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
    const policy = policyFields(body) as TokenPolicy; // nulls on create mean "none", like absent
    for (const k of Object.keys(policy) as Array<keyof TokenPolicy>) if (policy[k] === null) delete policy[k];
    const { token, record } = await state.tokens.create(name, expiresIn(body), policy);
    return c.json({ ...state.tokens.view(record), token, name: record.name }, 201);
  });

  app.patch("/tokens", async (c) => {
    const body = await jsonBody(c, state);
    const id = stringField(body, "id");
    if (!id) throw badRequest("'id' is required", "missing_field");
    const patch: PolicyPatch & { expiresAt?: number | null; name?: string } = policyFields(body);
    const exp = expiresIn(body);
    if (exp !== undefined) patch.expiresAt = state.options.now() + exp * 1000;
    if (body.expiresIn === null) patch.expiresAt = null;
    const name = stringField(body, "name");
    if (name !== undefined) {
      if (name.length > 100) throw badRequest("'name' must be at most 100 characters", "invalid_field");
      patch.name = name;
    }
    const rec = await state.tokens.update(id, patch);
    if (!rec) throw new PoolError(404, "token_not_found", "no such client token");
    return c.json({ success: true, token: state.tokens.view(rec) });
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
