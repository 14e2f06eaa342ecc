/**
 * `/api/auth/*`: the user self-service API. Sessions travel as `Authorization: Bearer <session>`.
 * `GET /api/auth/config` answers even with the user system off, so pages can tell.
 * @module
 */
import { type Context, Hono } from "hono";
import { presentedToken } from "../auth/bearer.ts";
import { PoolError } from "../errors.ts";
import type { PoolState } from "../state.ts";
import { CODE_TTL_MS, RESEND_MS } from "../users/codes.ts";
import { signInPage } from "../users/manage.ts";
import {
  AUTH_CONFIG,
  CHECK_IN,
  LOGIN,
  LOGOUT,
  PROFILE,
  REGISTER,
  SEND_CODE,
  SIGN_INS,
  USER_CONTRACTS,
} from "../openapi/users.ts";
import type { UserRecord } from "../users/types.ts";
import type { PoolEnv } from "./context.ts";
import { serve } from "./contract.ts";

export function userRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();
  const users = state.users;
  const o = users?.system.o;

  serve(app, "", state, AUTH_CONFIG, (c) =>
    c.json(
      o
        ? {
          enabled: true,
          turnstile: { enabled: o.turnstile !== undefined, siteKey: o.turnstile?.siteKey ?? null },
          timeZone: o.timeZone,
          passwordMinLength: o.passwordMinLength,
          tokenValidityDays: o.tokenValidityDays,
          maxValidityDays: o.maxValidityDays ?? null,
          codeTtlSeconds: CODE_TTL_MS / 1000,
          resendSeconds: RESEND_MS / 1000,
          keyProvider: o.keyProvider,
        }
        : { enabled: false },
    ));
  if (!users) return app;
  const { accounts } = users;
  const caller = (c: Context<PoolEnv>) => ({ ip: state.options.clientIp(c.req.raw, c.env) });
  // The session is checked before the contract reads the request, as the admin check runs before
  // the admin routes: a caller without one gets 401, never a 400 about the request's rules.
  // Held per request object, so an entry lives only as long as its request.
  const sessions = new WeakMap<Request, UserRecord>();
  for (const route of USER_CONTRACTS.filter((r) => r.auth === "user")) {
    app.on(route.method, route.path, async (c, next) => {
      sessions.set(c.req.raw, await accounts.authenticate(presentedToken(c.req.raw.headers)));
      await next();
    });
  }
  const me = (c: Context<PoolEnv>): UserRecord => sessions.get(c.req.raw)!;

  serve(app, "", state, SEND_CODE, async (c, { body }) => {
    await accounts.sendCode(body, caller(c));
    return c.json({ success: true });
  });
  serve(app, "", state, REGISTER, async (c, { body }) => c.json(await accounts.register(body, caller(c))));
  serve(app, "", state, LOGIN, async (c, { body }) => c.json(await accounts.login(body, caller(c))));
  serve(app, "", state, LOGOUT, async (c) => {
    await accounts.logout(me(c));
    return c.json({ success: true });
  });
  serve(app, "", state, CHECK_IN, async (c) => {
    const { keyExpiresAt } = await accounts.checkIn(me(c));
    return c.json({ success: true, keyExpiresAt });
  });
  serve(app, "", state, PROFILE, async (c) => c.json({ user: await accounts.profile(me(c)) }));
  serve(app, "", state, SIGN_INS, async (c, { query: { page, limit } }) => {
    const user = me(c);
    return c.json(await signInPage(users.system, user.id, page, limit));
  });
  return app;
}

/** For routes that need the user system when it is off. */
export function usersOff(): PoolError {
  return new PoolError(404, "users_disabled", "the user system is not enabled on this pool");
}
