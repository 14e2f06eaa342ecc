/**
 * `/api/auth/*`: the user self-service API. Sessions travel as `Authorization: Bearer <session>`.
 * `GET /api/auth/config` answers even with the user system off, so pages can tell.
 * @module
 */
import { type Context, Hono } from "hono";
import { presentedToken } from "../auth/bearer.ts";
import { badRequest, PoolError } from "../errors.ts";
import type { PoolState } from "../state.ts";
import { CODE_TTL_MS, RESEND_MS } from "../users/codes.ts";
import { signInPage } from "../users/manage.ts";
import { intQuery, jsonBody, type PoolEnv } from "./context.ts";

/** Anonymous routes read small forms; nobody needs 20 MiB to send an address and a password. */
const AUTH_BODY_LIMIT = 16 * 1024;

export function userRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();
  const users = state.users;
  const o = users?.system.o;

  app.get("/api/auth/config", (c) =>
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
  const me = (c: Context<PoolEnv>) => accounts.authenticate(presentedToken(c.req.raw.headers));

  app.post("/api/auth/send-code", async (c) => {
    await accounts.sendCode(await jsonBody(c, state, AUTH_BODY_LIMIT), caller(c));
    return c.json({ success: true });
  });
  app.post(
    "/api/auth/register",
    async (c) => c.json(await accounts.register(await jsonBody(c, state, AUTH_BODY_LIMIT), caller(c))),
  );
  app.post(
    "/api/auth/login",
    async (c) => c.json(await accounts.login(await jsonBody(c, state, AUTH_BODY_LIMIT), caller(c))),
  );
  app.post("/api/auth/logout", async (c) => {
    await accounts.logout(await me(c));
    return c.json({ success: true });
  });
  app.post("/api/auth/sign", async (c) => {
    const { keyExpiresAt } = await accounts.checkIn(await me(c));
    return c.json({ success: true, keyExpiresAt });
  });
  app.get("/api/auth/profile", async (c) => c.json({ user: await accounts.profile(await me(c)) }));
  app.get("/api/auth/signins", async (c) => {
    const user = await me(c);
    return c.json(
      await signInPage(users.system, user.id, intQuery(c, "page", 1, 1_000_000), intQuery(c, "limit", 10, 100)),
    );
  });
  return app;
}

/** 400 unless `v` is a boolean. */
export function boolField(v: unknown, name: string): boolean {
  if (typeof v !== "boolean") throw badRequest(`'${name}' must be true or false`, "invalid_field");
  return v;
}

/** For routes that need the user system when it is off. */
export function usersOff(): PoolError {
  return new PoolError(404, "users_disabled", "the user system is not enabled on this pool");
}
