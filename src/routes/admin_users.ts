/** Admin: user management under `/admin/users` (behind the admin middleware). @module */
import { Hono } from "hono";
import { badRequest } from "../errors.ts";
import type { PoolState } from "../state.ts";
import { signInPage } from "../users/manage.ts";
import {
  BATCH_USERS,
  EXTEND_USER_KEY,
  GET_USER,
  LIST_USERS,
  RESET_USER_KEY,
  UPDATE_USER,
  USER_SIGN_INS,
} from "../openapi/admin_users.ts";
import type { PoolEnv } from "./context.ts";
import { serve } from "./contract.ts";
import { usersOff } from "./users.ts";

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

  serve(app, "/admin", state, LIST_USERS, async (c, { query: { page, pageSize, search } }) => {
    return c.json(await admin.list(page, pageSize, search || undefined));
  });

  serve(app, "/admin", state, BATCH_USERS, async (c, { body: { ids, isActive } }) => {
    const r = await admin.setActive([...new Set(ids)], isActive);
    return c.json({ success: true, ...r });
  });

  serve(app, "/admin", state, GET_USER, async (c, { params }) => c.json({ user: await admin.get(params.id) }));

  serve(app, "/admin", state, UPDATE_USER, async (c, { params, body: { role, isActive } }) => {
    if (role === undefined && isActive === undefined) {
      throw badRequest("nothing to change: send 'role' and/or 'isActive'", "missing_field");
    }
    const patch = { ...(role === undefined ? {} : { role }), ...(isActive === undefined ? {} : { isActive }) };
    return c.json({ user: await admin.update(params.id, patch) });
  });

  serve(app, "/admin", state, RESET_USER_KEY, async (c, { params, body }) => {
    const ttl = body.ttlSeconds ?? system.o.tokenValidityDays * 86_400;
    return c.json({ success: true, ...(await admin.resetKey(params.id, ttl)) });
  });

  serve(app, "/admin", state, EXTEND_USER_KEY, async (c, { params, body }) => {
    return c.json({ success: true, user: await admin.extendKey(params.id, body.days ?? 1) });
  });

  serve(app, "/admin", state, USER_SIGN_INS, async (c, { params: { id }, query: { limit } }) => {
    await admin.get(id); // 404 for unknown users rather than an empty list
    const { items } = await signInPage(system, id, 1, limit);
    return c.json({ signins: items });
  });
  return app;
}
