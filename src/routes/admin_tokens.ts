/** Admin: client tokens — list with usage, create (shown once), revoke. @module */
import { Hono } from "hono";
import type { TokenPolicy } from "../auth/types.ts";
import { PoolError } from "../errors.ts";
import { CREATE_TOKEN, LIST_TOKENS, REVOKE_TOKEN, UPDATE_TOKEN } from "../openapi/admin_tokens.ts";
import { statsRecord } from "../stats/recorder.ts";
import type { PoolState } from "../state.ts";
import type { PoolEnv } from "./context.ts";
import { serve } from "./contract.ts";

type PolicyPatch = { [K in keyof TokenPolicy]?: TokenPolicy[K] | null };

/** The policy fields a body gave; `null` clears a field (PATCH), absent leaves it. */
function policyFields(body: PolicyPatch): PolicyPatch {
  const out: PolicyPatch = {};
  for (const k of ["rpm", "tpm", "quota", "allowedModels"] as const) {
    if (body[k] !== undefined) (out as Record<string, unknown>)[k] = body[k];
  }
  return out;
}

export function adminTokenRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();

  serve(app, "/admin", state, LIST_TOKENS, async (c) => {
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

  serve(app, "/admin", state, CREATE_TOKEN, async (c, { body }) => {
    const policy = policyFields(body) as TokenPolicy; // nulls on create mean "none", like absent
    for (const k of Object.keys(policy) as Array<keyof TokenPolicy>) if (policy[k] === null) delete policy[k];
    const { token, record } = await state.tokens.create(body.name, body.expiresIn ?? undefined, policy);
    return c.json({ ...state.tokens.view(record), token, name: record.name }, 201);
  });

  serve(app, "/admin", state, UPDATE_TOKEN, async (c, { body }) => {
    const patch: PolicyPatch & { expiresAt?: number | null; name?: string } = policyFields(body);
    if (body.expiresIn !== undefined) {
      patch.expiresAt = body.expiresIn === null ? null : state.options.now() + body.expiresIn * 1000;
    }
    if (body.name !== undefined) patch.name = body.name;
    const rec = await state.tokens.update(body.id, patch);
    if (!rec) throw new PoolError(404, "token_not_found", "no such client token");
    return c.json({ success: true, token: state.tokens.view(rec) });
  });

  serve(app, "/admin", state, REVOKE_TOKEN, async (c, { body }) => {
    const rec = await state.tokens.revoke(body.id);
    if (!rec) throw new PoolError(404, "token_not_found", "no such client token");
    return c.json({ success: true, id: rec.id });
  });
  return app;
}
