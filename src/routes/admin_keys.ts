/** Admin: upstream keys — list, add, delete, import, enable/disable. @module */
import { Hono } from "hono";
import { badRequest, PoolError } from "../errors.ts";
import { importKeyText, requestBytes } from "../keys/import_text.ts";
import { parseKeyList } from "../keys/parse.ts";
import { maskSecret } from "../keys/secrets.ts";
import type { KeyRecord } from "../keys/types.ts";
import type { KeyUsage } from "../keys/usage_poll.ts";
import type { PoolState } from "../state.ts";
import { ADD_KEY, DELETE_KEYS, DISABLE_KEY, ENABLE_KEY, LIST_KEYS, UPDATE_KEY } from "../openapi/admin_keys.ts";
import { jsonBody, type PoolEnv, providerParam } from "./context.ts";
import { serve } from "./contract.ts";

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

export function adminKeyRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();
  const notFound = (provider: string) => new PoolError(404, "key_not_found", `no such key in the "${provider}" pool`);

  serve(app, "/admin", state, LIST_KEYS, (c, { query: { page, pageSize, status, search }, provider }) => {
    const needle = search?.toLowerCase();
    const from = (page - 1) * pageSize;
    const items: KeyRecord[] = [];
    let total = 0;
    for (const r of state.keys.pool(provider).values()) {
      if (status && r.state !== status) continue;
      if (needle && !r.id.includes(needle) && !(r.label ?? "").toLowerCase().includes(needle)) continue;
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

  serve(app, "/admin", state, ADD_KEY, async (c, { body, provider }) => {
    const { api_key: secret, username, ttl, priority, weight } = body;
    const expiresAt = ttl ? state.options.now() + ttl * 1000 : undefined;
    const entry = { secret, label: username || undefined, line: 1, priority, weight };
    const r = await state.keys.add(provider, [entry], expiresAt);
    if (r.added === 0) {
      throw new PoolError(409, "key_exists", `this key is already in the "${provider}" pool (id ${r.ids[0]})`);
    }
    return c.json({ success: true, message: "key added", id: r.ids[0], provider }, 201);
  });

  serve(app, "/admin", state, UPDATE_KEY, async (c, { body: { id: given, priority, weight }, provider }) => {
    if (priority === undefined && weight === undefined) {
      throw badRequest("nothing to change: give 'priority' and/or 'weight'", "missing_field");
    }
    const id = await state.keys.resolve(provider, given);
    if (!id) throw notFound(provider);
    const pool = state.keys.pool(provider);
    pool.setPlacement(id, {
      ...(priority === undefined ? {} : { priority }),
      ...(weight === undefined ? {} : { weight }),
    });
    await state.keys.flush();
    return c.json({ success: true, key: keyView(pool.get(id)!, state.usage?.get(provider, id)) });
  });

  serve(app, "/admin", state, DELETE_KEYS, async (c, { body: { id: one, apiKeys: list }, provider }) => {
    if (list !== undefined) {
      const resolved = await Promise.all(list.map((x) => state.keys.resolve(provider, x)));
      const ids = resolved.filter((x): x is string => !!x);
      const deleted = (await state.keys.remove(provider, [...new Set(ids)])).length;
      return c.json({ success: true, deleted, failed: list.length - deleted, total: list.length });
    }
    if (!one) throw badRequest("'id' (or 'apiKeys' for a batch) is required", "missing_field");
    const id = await state.keys.resolve(provider, one);
    if (!id) throw notFound(provider);
    await state.keys.remove(provider, [id]);
    return c.json({ success: true, id });
  });

  // The import routes read their bodies themselves (a file of many keys has its own reader); the
  // checks they make are those their contracts declare, held to it by tests/contracts.test.ts.
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

  serve(app, "/admin", state, ENABLE_KEY, async (c, { body, provider }) => {
    const id = await state.keys.resolve(provider, body.id);
    if (!id) throw notFound(provider);
    state.keys.pool(provider).enable(id);
    await state.keys.flush();
    return c.json({ success: true, message: "key enabled", id });
  });

  serve(app, "/admin", state, DISABLE_KEY, async (c, { body, provider }) => {
    const id = await state.keys.resolve(provider, body.id);
    if (!id) throw notFound(provider);
    const duration = body.duration ?? 3600;
    state.keys.pool(provider).disable(id, duration * 1000, "disabled by admin");
    await state.keys.flush();
    const until = duration ? ` for ${duration} s` : " until enabled again";
    return c.json({ success: true, message: `key disabled${until}`, id });
  });
  return app;
}
