/**
 * HTML pages: the admin dashboard at `/` (login form without a session), the public `/stats`
 * page, and the assets they load. Pages are rendered by hono/jsx on the server.
 * @module
 */
import { type Context, Hono } from "hono";
import { html } from "hono/html";
import { basePath } from "hono/route";
import type { Child } from "hono/jsx";
import { adminSession, clearAdminCookie, hasAdminSession, issueAdminCookie } from "../auth/admin_session.ts";
import { PoolError } from "../errors.ts";
import { readBody } from "../proxy/request.ts";
import type { PoolState } from "../state.ts";
import { asset } from "../ui/assets.ts";
import { pageHeaders, policyAllowing } from "../ui/headers.ts";
import { TURNSTILE_SCRIPT, UserDashboard, UserLogin, type UserPageConfig, UsersOff } from "../ui/pages/user.tsx";
import { RESEND_MS } from "../users/codes.ts";
import { createThrottle } from "../users/throttle.ts";
import type { ResolvedUsersOptions } from "../users/options.ts";
import { Dashboard, Login, TABS } from "../ui/pages/dashboard.tsx";
import { StatsPage } from "../ui/pages/stats.tsx";
import { analytics } from "../stats/analytics.ts";
import { type PoolEnv, providerParam } from "./context.ts";
import { publicStats } from "./public.ts";

function userPageConfig(o: ResolvedUsersOptions, base: string): UserPageConfig {
  return {
    base,
    passwordMinLength: o.passwordMinLength,
    resendSeconds: RESEND_MS / 1000,
    timeZone: o.timeZone,
    turnstileSiteKey: o.turnstile ? o.turnstile.siteKey : undefined,
  };
}

/** Dashboard login attempts allowed per client address and window. */
const ADMIN_LOGINS_PER_WINDOW = 20;
const ADMIN_LOGIN_WINDOW_MS = 15 * 60_000;

/** The login form is small; anything bigger is not a login. */
const MAX_LOGIN_BODY = 4096;

/** Where the pool is mounted ("" at the root, "/llm" under app.route("/llm", pool.app)). */
export function mountBase(c: Context<PoolEnv>): string {
  const base = basePath(c).replace(/\/+$/, "");
  // Mounted at a parameter (`/:tenant`) the base comes from the request path: anything beyond
  // plain path characters (`/\\evil.example`) would turn links and redirects off-site.
  return SAFE_BASE.test(base) ? base : "";
}

const SAFE_BASE = /^(\/[A-Za-z0-9._~-]+)*$/;

/** Renders a page with the pages' security headers. */
export function page(node: Child, status = 200, cacheable = false, extra: Record<string, string> = {}): Response {
  return new Response(html`<!DOCTYPE html>${node}`.toString(), {
    status,
    headers: { ...pageHeaders(cacheable), ...extra },
  });
}

/**
 * Whether the browser reached us over https — directly, or through a TLS-terminating proxy that
 * says so. Trusting the header is safe here: it can only add the cookie's Secure flag.
 */
const secure = (c: Context<PoolEnv>): boolean =>
  new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto")?.split(",")[0].trim() === "https";

/**
 * The dashboard (or the login form without a session). Served at the mount point itself and,
 * through {@link dashboardWithSlash}, at the mount point with a trailing slash.
 */
export function dashboardPage(state: PoolState): (c: Context<PoolEnv>) => Promise<Response> {
  const ended = (nonce: string) => state.endedSessions.ended(nonce);
  return async (c) => {
    const base = mountBase(c);
    if (!(await hasAdminSession(state.admin(), c.req.raw, state.options.now(), ended))) return page(Login({ base }));
    const tabs = TABS.filter(([id]) =>
      (id !== "users" || state.users !== undefined) && (id !== "logs" || state.logs !== undefined)
    );
    const asked = c.req.query("tab") ?? "keys";
    const tab = tabs.some(([id]) => id === asked) ? asked : "keys";
    const provider = providerParam(c, state);
    // Links from the charts open the Logs tab filtered; only short plain values are taken over.
    const logFilter: Record<string, string> = {};
    for (const k of ["token", "key", "model", "status"]) {
      const v = c.req.query(k);
      if (v && v.length <= 256) logFilter[k] = v;
    }
    return page(Dashboard({
      base,
      tab,
      tabs,
      provider,
      providers: state.options.providers.map((p) => p.id),
      logFilter,
      analytics: tab === "analytics" ? await analytics(state, provider) : undefined,
    }));
  };
}

/**
 * Mounted with `app.route("/llm", pool.app)`, the pool's "/" matches `/llm` only (Hono routes
 * are strict about the trailing slash), yet `/llm/` is what people type, what the login redirect
 * and the tab links use. Register last, before the catch-all: it answers only GET and HEAD of
 * that one path.
 */
export function dashboardWithSlash(
  state: PoolState,
): (c: Context<PoolEnv>, next: () => Promise<void>) => Promise<Response | void> {
  const dashboard = dashboardPage(state);
  return (c, next) => {
    const base = mountBase(c);
    const read = c.req.method === "GET" || c.req.method === "HEAD";
    return read && base !== "" && c.req.path === `${base}/` ? dashboard(c) : next();
  };
}

export function pageRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();
  const providers = () => state.options.providers.map((p) => p.id);

  app.get("/", dashboardPage(state));

  const loginsPerIp = createThrottle("admin-login-ip", ADMIN_LOGIN_WINDOW_MS, state.store.counters, state.options.now);
  app.post("/ui/login", async (c) => {
    const base = mountBase(c);
    // Guessing a weak ADMIN_TOKEN through the form is slowed per client address (when the
    // runtime tells it; one shared bucket for unknown addresses would let anyone lock the admin out).
    const ip = state.options.clientIp(c.req.raw, c.env);
    if (ip) {
      const r = await loginsPerIp.hit(ip, ADMIN_LOGINS_PER_WINDOW);
      if (!r.allowed) {
        const retry = String(Math.max(1, Math.ceil(r.retryMs / 1000)));
        return page(
          Login({ base, error: `Too many login attempts from your address; try again in ${retry} s.` }),
          429,
          false,
          { "retry-after": retry },
        );
      }
    }
    const form = new URLSearchParams(await readBody(c.req.raw, MAX_LOGIN_BODY));
    if (!(await state.admin().check(form.get("token") ?? undefined))) {
      return page(Login({ base, error: "That is not the admin token." }), 401);
    }
    const cookie = await issueAdminCookie(state.admin(), state.options.now(), secure(c), base || "/");
    return new Response(null, {
      status: 303,
      headers: { location: `${base}/`, "set-cookie": cookie, "cache-control": "no-store" },
    });
  });

  app.post("/ui/logout", async (c) => {
    const base = mountBase(c);
    // Ended in the store too: a copy of the cookie must stop working, not just this browser's.
    const session = await adminSession(state.admin(), c.req.raw, state.options.now());
    if (session) await state.endedSessions.end(session.nonce, session.expires);
    return new Response(null, {
      status: 303,
      headers: { location: `${base}/`, "set-cookie": clearAdminCookie(secure(c), base || "/") },
    });
  });

  // The user pages. Only /user may load Turnstile's script, and only when Turnstile is on.
  app.get("/user", (c) => {
    const base = mountBase(c);
    if (!state.users) return page(UsersOff({ base }), 404);
    const config = userPageConfig(state.users.system.o, base);
    const csp: Record<string, string> = config.turnstileSiteKey
      ? { "content-security-policy": policyAllowing(new URL(TURNSTILE_SCRIPT).origin) }
      : {};
    return page(UserLogin(config), 200, false, csp);
  });
  app.get("/user/dashboard", (c) => {
    const base = mountBase(c);
    if (!state.users) return page(UsersOff({ base }), 404);
    return page(UserDashboard(userPageConfig(state.users.system.o, base)));
  });

  app.get("/stats", async (c) => {
    const stats = await publicStats(state, providerParam(c, state));
    return page(StatsPage({ base: mountBase(c), stats, providers: providers() }), 200, true);
  });

  app.get("/assets/:name", (c) => {
    const a = asset(c.req.param("name"));
    if (!a) throw new PoolError(404, "not_found", "no such asset");
    const etag = `"${a.hash}"`;
    // A URL with the current hash never changes; any other is answered but not kept long.
    const cache = c.req.query("v") === a.hash ? "public, max-age=31536000, immutable" : "public, max-age=300";
    const headers = { etag, "cache-control": cache, "content-type": a.type, "x-content-type-options": "nosniff" };
    if (c.req.header("if-none-match") === etag) return new Response(null, { status: 304, headers });
    return new Response(a.body, { headers });
  });
  return app;
}
