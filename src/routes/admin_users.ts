/** Admin: user management under `/admin/users` (behind the admin middleware). @module */
import { Hono } from "hono";
import { badRequest } from "../errors.ts";
import type { PoolState } from "../state.ts";
import { signInPage } from "../users/manage.ts";
import { intQuery, jsonBody, pageParams, type PoolEnv } from "./context.ts";
import { boolField, usersOff } from "./users.ts";

/** Most ids in one batch request. */
const MAX_BATCH = 500;

function positive(v: unknown, name: string, def: number, max: number): number {
  if (v === undefined || v === null) return def;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) {
    throw badRequest(`'${name}' must be an integer from 1 to ${max}`, "invalid_field");
  }
  return v;
}

export function adminUserRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();
  const users = state.users;
  if (!users) {
    app.all("/users", () => {
      throw usersOff();
    });
    app.all("/users/*", () => {
      throw usersOff();
    });
    return app;
  }
  const { admin, system } = users;

  app.get("/users", async (c) => {
    const { page, pageSize } = pageParams(c, 20, 100);
    const search = c.req.query("search");
    return c.json(await admin.list(page, pageSize, search || undefined));
  });

  app.post("/users/batch", async (c) => {
    const body = await jsonBody(c, state);
    const ids = body.ids;
    if (
      !Array.isArray(ids) || ids.length === 0 || ids.length > MAX_BATCH ||
      ids.some((id) => typeof id !== "string" || id === "")
    ) {
      throw badRequest(`'ids' must be a list of 1 to ${MAX_BATCH} user ids`, "invalid_field");
    }
    const r = await admin.setActive([...new Set(ids as string[])], boolField(body.isActive, "isActive"));
    return c.json({ success: true, ...r });
  });

  app.get("/users/:id", async (c) => c.json({ user: await admin.get(c.req.param("id")) }));

  app.patch("/users/:id", async (c) => {
    const body = await jsonBody(c, state);
    const patch: { role?: "user" | "admin"; isActive?: boolean } = {};
    if (body.role !== undefined) {
      if (body.role !== "user" && body.role !== "admin") {
        throw badRequest('\'role\' must be "user" or "admin"', "invalid_field");
      }
      patch.role = body.role;
    }
    if (body.isActive !== undefined) patch.isActive = boolField(body.isActive, "isActive");
    if (Object.keys(patch).length === 0) {
      throw badRequest("nothing to change: send 'role' and/or 'isActive'", "missing_field");
    }
    return c.json({ user: await admin.update(c.req.param("id"), patch) });
  });

  app.post("/users/:id/reset-key", async (c) => {
    const body = await jsonBody(c, state);
    const ttl = positive(body.ttlSeconds, "ttlSeconds", system.o.tokenValidityDays * 86_400, 10 * 365 * 86_400);
    return c.json({ success: true, ...(await admin.resetKey(c.req.param("id"), ttl)) });
  });

  app.post("/users/:id/extend-key", async (c) => {
    const body = await jsonBody(c, state);
    return c.json({
      success: true,
      user: await admin.extendKey(c.req.param("id"), positive(body.days, "days", 1, 3650)),
    });
  });

  app.get("/users/:id/signins", async (c) => {
    const id = c.req.param("id");
    await admin.get(id); // 404 for unknown users rather than an empty list
    const { items } = await signInPage(system, id, 1, intQuery(c, "limit", 10, 90));
    return c.json({ signins: items });
  });
  return app;
}
