/** The proxy routes of every provider, all through the one failover path. @module */
import { Hono } from "hono";
import { presentedToken } from "../auth/bearer.ts";
import { PoolError } from "../errors.ts";
import { proxyWithFailover, type ProxyDeps } from "../proxy/failover.ts";
import { parseProxyRequest } from "../proxy/request.ts";
import type { PoolState } from "../state.ts";
import { executionContext, type PoolEnv } from "./context.ts";

/** Registers each provider endpoint; client tokens are checked before anything else. */
export function proxyRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();
  const o = state.options;
  const deps: ProxyDeps = {
    fetch: o.fetch,
    rules: o.failover,
    stats: state.stats,
    now: o.now,
    onError: (m) => o.logger.error(m),
  };
  for (const provider of o.providers) {
    const keys = state.keys.pool(provider.id);
    for (const endpoint of provider.endpoints) {
      app.on(endpoint.method, endpoint.path, async (c) => {
        state.limits.checkIp(o.clientIp(c.req.raw, c.env));
        const token = presentedToken(c.req.raw.headers);
        if (!token) throw new PoolError(401, "missing_api_key", "missing client token: send 'Authorization: Bearer <token>'");
        const record = state.tokens.verify(token);
        if (!record) throw new PoolError(401, "invalid_api_key", "invalid or expired client token");
        const request = await parseProxyRequest(c.req.raw, endpoint, o.maxBodyBytes);
        state.limits.checkToken(record, request.model);
        const url = c.req.url;
        const q = url.indexOf("?");
        try {
          return await proxyWithFailover(deps, {
            provider, keys, endpoint, request,
            headers: c.req.raw.headers,
            search: q < 0 ? "" : url.slice(q),
            signal: c.req.raw.signal,
            tokenId: record.id,
            onUsage: (u) => state.limits.usage(record, u.promptTokens + u.completionTokens),
          });
        } finally {
          state.tick(() => executionContext(c));
        }
      });
    }
  }
  return app;
}
