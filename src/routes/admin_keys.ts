/** Admin: upstream keys — list, add, delete, import, enable/disable. @module */
import { Hono } from "hono";
import { badRequest, PoolError } from "../errors.ts";
import { importKeyText, requestBytes } from "../keys/import_text.ts";
import { MAX_LABEL_LENGTH, parseKeyList, placementProblem, secretProblem } from "../keys/parse.ts";
import { maskSecret } from "../keys/secrets.ts";
import type { KeyRecord } from "../keys/types.ts";
import type { KeyUsage } from "../keys/usage_poll.ts";
import type { PoolState } from "../state.ts";
import { jsonBody, pageParams, type PoolEnv, providerParam, stringField } from "./context.ts";

const STATES = new Set(["active", "cooling", "disabled"]);

/** A key as admins see it: masked, addressed by id; `usage` from usage polling, when on. */
export function keyView(r: KeyRecord, usage?: KeyUsage & { at: number }): Record<string, unknown> {
  return {
    id: r.id,
    api_key: maskSecret(r.secret),
    username: r.label ?? null,
    status: r.state,
    failures: r.failures,
    reason: r.reason ?? null,
    until: r.until ?? null,
    usage_limit: r.cap ?? null,
    created_at: r.createdAt,
    expires_at: r.expiresAt ?? null,
    priority: r.priority ?? 0,
    weight: r.weight ?? 1,
    models: r.models ?? null,
    usage: usage ? { session: usage.session ?? null, weekly: usage.weekly ?? null, checked_at: usage.at } : null,
  };
}

/** Positive whole seconds, or undefined when absent. */
function seconds(body: Record<string, unknown>, name: string, allowZero = false): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < (allowZero ? 0 : 1)) {
    throw badRequest(
      `'${name}' must be a ${allowZero ? "non-negative" : "positive"} whole number of seconds`,
      "invalid_field",
    );
  }
  return v;
}

/** `priority` and `weight` of a body, validated; 400 naming the field. */
function placement(body: Record<string, unknown>): { priority?: number; weight?: number } {
  const out: { priority?: number; weight?: number } = {};
  for (const name of ["priority", "weight"] as const) {
    const v = body[name] ?? undefined;
    const problem = placementProblem(name, v);
    if (problem) throw badRequest(problem, "invalid_field");
    if (v !== undefined) out[name] = v as number;
  }
  return out;
}

export function adminKeyRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();

  app.get("/api-keys", (c) => {
    const provider = providerParam(c, state);
    const { page, pageSize } = pageParams(c, 50, 200);
    const status = c.req.query("status");
    if (status && !STATES.has(status)) {
      throw badRequest("'status' must be active, cooling or disabled", "invalid_status");
    }
    const search = c.req.query("search")?.toLowerCase();
    const from = (page - 1) * pageSize;
    const items: KeyRecord[] = [];
    let total = 0;
    for (const r of state.keys.pool(provider).values()) {
      if (status && r.state !== status) continue;
      if (search && !r.id.includes(search) && !(r.label ?? "").toLowerCase().includes(search)) continue;
      if (total >= from && items.length < pageSize) items.push(r);
      total++;
    }
    return c.json({
      provider,
      api_keys: items.map((r) => keyView(r, state.usage?.get(provider, r.id))),
      total,
      page,
      pageSize,
      totalPages: Math.ceil(total / pageSize),
    });
  });

  app.post("/api-keys", async (c) => {
    const body = await jsonBody(c, state);
    const provider = providerParam(c, state, body);
    const secret = stringField(body, "api_key", "apiKey", "key");
    if (!secret) throw badRequest("'api_key' is required", "missing_field");
    const problem = secretProblem(secret);
    if (problem) throw badRequest(problem, "invalid_key");
    const ttl = seconds(body, "ttl");
    const label = stringField(body, "username");
    if (label !== undefined && label.length > MAX_LABEL_LENGTH) {
      throw badRequest(`'username' must be at most ${MAX_LABEL_LENGTH} characters`, "invalid_field");
    }
    const expiresAt = ttl ? state.options.now() + ttl * 1000 : undefined;
    const r = await state.keys.add(provider, [{ secret, label, line: 1, ...placement(body) }], expiresAt);
    if (r.added === 0) {
      throw new PoolError(409, "key_exists", `this key is already in the "${provider}" pool (id ${r.ids[0]})`);
    }
    return c.json({ success: true, message: "key added", id: r.ids[0], provider }, 201);
  });

  app.patch("/api-keys", async (c) => {
    const body = await jsonBody(c, state);
    const provider = providerParam(c, state, body);
    const given = stringField(body, "id", "apiKey", "api_key");
    if (!given) throw badRequest("'id' (or 'apiKey') is required", "missing_field");
    const change = placement(body);
    if (change.priority === undefined && change.weight === undefined) {
      throw badRequest("nothing to change: give 'priority' and/or 'weight'", "missing_field");
    }
    const id = await state.keys.resolve(provider, given);
    if (!id) throw new PoolError(404, "key_not_found", `no such key in the "${provider}" pool`);
    const pool = state.keys.pool(provider);
    pool.setPlacement(id, change);
    await state.keys.flush();
    return c.json({ success: true, key: keyView(pool.get(id)!, state.usage?.get(provider, id)) });
  });

  app.delete("/api-keys", async (c) => {
    const body = await jsonBody(c, state);
    const provider = providerParam(c, state, body);
    const list = body.apiKeys ?? body.ids;
    if (list !== undefined) {
      if (!Array.isArray(list) || list.some((x) => typeof x !== "string")) {
        throw badRequest("'apiKeys' must be an array of ids or keys");
      }
      const ids = (await Promise.all(list.map((x: string) => state.keys.resolve(provider, x)))).filter((
        x,
      ): x is string => !!x);
      const deleted = (await state.keys.remove(provider, [...new Set(ids)])).length;
      return c.json({ success: true, deleted, failed: list.length - deleted, total: list.length });
    }
    const one = stringField(body, "id", "apiKey", "api_key");
    if (!one) throw badRequest("'id' (or 'apiKey', or 'apiKeys' for a batch) is required", "missing_field");
    const id = await state.keys.resolve(provider, one);
    if (!id) throw new PoolError(404, "key_not_found", `no such key in the "${provider}" pool`);
    await state.keys.remove(provider, [id]);
    return c.json({ success: true, id });
  });

  app.post("/api-keys/import", async (c) => {
    const body = await jsonBody(c, state);
    const provider = providerParam(c, state, body);
    if (!Array.isArray(body.keys)) throw badRequest("'keys' must be an array of keys", "missing_field");
    const parsed = parseKeyList(body.keys);
    const r = await state.keys.add(provider, parsed.keys);
    return c.json({ provider, total: parsed.total, added: r.added, existing: r.existing, invalid: parsed.invalid });
  });

  app.post("/api-keys/import-from-txt", async (c) => {
    // The file itself as a text/plain body (curl --data-binary @ollama.txt), read as it arrives and
    // never held whole; or {content} as JSON.
    const plain = (c.req.header("content-type") ?? "").startsWith("text/plain");
    const body = plain ? {} : await jsonBody(c, state);
    const provider = providerParam(c, state, body);
    if (!plain && typeof body.content !== "string") {
      throw badRequest("'content' must be the text of an ollama.txt file", "missing_field");
    }
    const source = plain ? requestBytes(c.req.raw, state.options.maxBodyBytes) : body.content as string;
    return c.json({ provider, ...await importKeyText(state.keys, provider, source) });
  });

  for (const action of ["enable", "disable"] as const) {
    app.post(`/keys/${action}`, async (c) => {
      const body = await jsonBody(c, state);
      const provider = providerParam(c, state, body);
      const given = stringField(body, "id", "apiKey", "api_key");
      if (!given) throw badRequest("'id' (or 'apiKey') is required", "missing_field");
      const id = await state.keys.resolve(provider, given);
      if (!id) throw new PoolError(404, "key_not_found", `no such key in the "${provider}" pool`);
      const pool = state.keys.pool(provider);
      if (action === "enable") {
        pool.enable(id);
        await state.keys.flush();
        return c.json({ success: true, message: "key enabled", id });
      }
      const duration = seconds(body, "duration", true) ?? 3600;
      pool.disable(id, duration * 1000, "disabled by admin");
      await state.keys.flush();
      const until = duration ? ` for ${duration} s` : " until enabled again";
      return c.json({ success: true, message: `key disabled${until}`, id });
    });
  }
  return app;
}
