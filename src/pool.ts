/**
 * `createPool()`: options in, a Hono app and a standard fetch handler out. Wiring only.
 * @module
 */
import { Hono } from "hono";
import { adminAuthorized } from "./auth/admin_session.ts";
import { presentedToken } from "./auth/bearer.ts";
import { PoolError } from "./errors.ts";
import type { PoolOptions } from "./options.ts";
import { resolveOptions } from "./resolve_options.ts";
import { adminHealthRoutes } from "./routes/admin_health.ts";
import { adminKeyRoutes } from "./routes/admin_keys.ts";
import { adminLogRoutes } from "./routes/admin_logs.ts";
import { adminStatsRoutes } from "./routes/admin_stats.ts";
import { adminTokenRoutes } from "./routes/admin_tokens.ts";
import type { Endpoint } from "./providers/types.ts";
import type { PoolEnv } from "./routes/context.ts";
import { docsRoutes } from "./routes/docs.ts";
import { inPathDialect } from "./routes/dialect_errors.ts";
import { dashboardWithSlash, pageRoutes } from "./routes/pages.ts";
import { proxyRoutes } from "./routes/proxy.ts";
import { metricsRoute, publicRoutes, publicStatsRoute } from "./routes/public.ts";
import { adminCacheRoutes } from "./routes/admin_cache.ts";
import { adminUserRoutes } from "./routes/admin_users.ts";
import { userRoutes } from "./routes/users.ts";
import { createState, type ExecutionContextLike, type PoolState } from "./state.ts";
import { storageErrorMessage, StorageUnavailable } from "./store/unavailable.ts";

/** What `createPool` returns. */
export interface Pool {
  /** The standard handler: Workers `export default pool`, `Deno.serve(pool.fetch)`, `Bun.serve(pool)`. */
  fetch(request: Request, env?: unknown, ctx?: ExecutionContextLike): Promise<Response>;
  /** The Hono app, to mount in another: `app.route("/llm", pool.app)`. */
  app: Hono<PoolEnv>;
  /** Loads storage now instead of on the first request (and surfaces storage errors early). */
  ready(): Promise<void>;
  /** Writes pending statistics and key states. */
  flush(): Promise<void>;
  /** Runs whatever background work is due (the Node server calls it every second). */
  tick(): void;
  /** Flushes; call on shutdown. */
  close(): Promise<void>;
  /** Internal state, for adapters and tests. */
  readonly state: PoolState;
}

/**
 * Creates a pool.
 * @example
 * const pool = createPool({ providers: [ollama()], auth: { adminToken: "a-long-secret-admin-token" } });
 * Deno.serve(pool.fetch);
 */
export function createPool(options: PoolOptions): Pool {
  const state = createState(resolveOptions(options));
  const app = new Hono<PoolEnv>();

  // After the first load (so on almost every request) nothing is awaited here; only the first
  // request after a quiet spell waits (at most 1 s) for the instance to catch up with the store.
  let loaded = false;
  app.use("*", (c, next) => {
    const proceed = () => {
      const catchUp = state.beforeRequest(c.req.raw.headers);
      return catchUp ? catchUp.then(() => next()) : next();
    };
    if (loaded) return proceed();
    return state.ready().then(() => {
      loaded = true;
      return proceed();
    });
  });
  // Public, though under /admin (the original's path): registered before the admin check, it
  // answers first. Nothing else is exempt: a path that merely ends in /admin/public-stats (under
  // the /admin/users/* catch-all, say) still needs the admin credential.
  app.route("/", publicStatsRoute(state));
  app.use("/admin/*", async (c, next) => {
    const bearer = presentedToken(c.req.raw.headers) !== undefined;
    const ip = bearer ? state.options.clientIp(c.req.raw, c.env) : undefined;
    state.guesses.admin.check(ip);
    if (!(await adminAuthorized(state.admin(), c.req.raw, state.options.now(), (n) => state.endedSessions.ended(n)))) {
      const refused = await state.guesses.admin.failed(ip);
      if (refused) throw refused;
      throw new PoolError(
        401,
        "invalid_admin_token",
        "admin routes need 'Authorization: Bearer <ADMIN_TOKEN>' (or a dashboard session)",
      );
    }
    await next();
  });

  app.route("/", publicRoutes(state));
  app.route("/", metricsRoute(state));
  app.route("/", userRoutes(state));
  app.route("/", proxyRoutes(state));
  app.route("/admin", adminKeyRoutes(state));
  app.route("/admin", adminTokenRoutes(state));
  app.route("/admin", adminStatsRoutes(state));
  app.route("/admin", adminLogRoutes(state));
  app.route("/admin", adminHealthRoutes(state));
  app.route("/admin", adminCacheRoutes(state));
  app.route("/admin", adminUserRoutes(state));
  app.route("/", pageRoutes(state));
  app.route("/", docsRoutes(state));
  const endpoints = [...state.providers.values()].flatMap((p) => p.endpoints);
  methodNotAllowed(app, endpoints);
  app.all("*", dashboardWithSlash(state));
  // A catch-all route rather than notFound(): a host app that mounts the pool keeps its own
  // notFound, and unknown paths under the pool's prefix still get the pool's 404 (OpenAI-shaped,
  // or the dialect's under a proxied API's path).
  app.all("*", (c) =>
    inPathDialect(
      c,
      endpoints,
      new PoolError(404, "not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`),
    ));
  app.onError((err, c) => {
    if (err instanceof StorageUnavailable) {
      state.options.logger.error(
        `[ollama-api-pool] ${c.req.method} ${new URL(c.req.url).pathname}: storage unavailable: ${
          storageErrorMessage(err)
        }`,
      );
    }
    if (err instanceof PoolError) return err.toResponse();
    state.options.logger.error(
      `[ollama-api-pool] ${c.req.method} ${new URL(c.req.url).pathname} failed: ${(err as Error)?.stack ?? err}`,
    );
    return new PoolError(500, "internal_error", "internal error in the pool").toResponse();
  });

  return {
    app,
    state,
    fetch: (request, env, ctx) =>
      Promise.resolve(app.fetch(request, env as Record<string, unknown> | undefined, ctx as never)),
    ready: () => state.ready(),
    flush: () => state.flush(),
    tick: () => state.tick(),
    close: () => state.flush(),
  };
}

/** A 405 for every known path asked with a method it does not serve (in a proxied API's dialect on its paths). */
function methodNotAllowed(app: Hono<PoolEnv>, endpoints: Endpoint[]): void {
  const methods = new Map<string, Set<string>>();
  for (const r of app.routes) {
    if (r.method === "ALL" || r.path.includes("*")) continue;
    let set = methods.get(r.path);
    if (!set) methods.set(r.path, set = new Set());
    set.add(r.method);
  }
  for (const [path, allowed] of methods) {
    const allow = [...allowed].join(", ");
    app.all(path, (c) =>
      inPathDialect(
        c,
        endpoints,
        new PoolError(405, "method_not_allowed", `${c.req.method} is not allowed on ${path}; use ${allow}`, {
          headers: { allow },
        }),
      ));
  }
}
