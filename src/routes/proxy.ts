/** The proxy routes of every provider, all through the one failover path. @module */
import { type Context, Hono } from "hono";
import { presentedToken } from "../auth/bearer.ts";
import { PoolError } from "../errors.ts";
import { isModelList, ModelCatalog, withAliases } from "../keys/catalog.ts";
import { AliasRouter } from "../proxy/aliases.ts";
import { CLIENT_GONE, type ClientGone } from "../proxy/attempt.ts";
import { type ProxyCall, proxyWithFailover, type ProxyDeps } from "../proxy/failover.ts";
import { type ParsedRequest, parseProxyRequest } from "../proxy/request.ts";
import { statsModelName } from "../stats/recorder.ts";
import type { TokenRecord } from "../auth/types.ts";
import type { ExecutionContextLike, PoolState } from "../state.ts";
import { executionContext, type PoolEnv } from "./context.ts";

/** Keeps a successful non-stream answer; marks it `X-Cache: MISS`. */
async function storeInCache(state: PoolState, key: string, res: Response, provider: string, model?: string): Promise<Response> {
  const type = res.headers.get("content-type") ?? "";
  if (res.status !== 200 || type.includes("event-stream") || type.includes("ndjson")) return res;
  const body = new Uint8Array(await res.arrayBuffer());
  const headers = new Headers(res.headers);
  await state.cache.set(key, { status: res.status, headers, body }, provider, model);
  headers.set("x-cache", "MISS");
  return new Response(body, { status: res.status, headers });
}

/** The client's disconnect as the request's signal tells it (runtimes without CLIENT_GONE). */
function signalGone(signal: AbortSignal): ClientGone {
  return (listener) => {
    if (signal.aborted) listener();
    else signal.addEventListener("abort", listener, { once: true });
  };
}

/** Registers each provider endpoint; client tokens are checked before anything else. */
export function proxyRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();
  const o = state.options;
  const deps: ProxyDeps = {
    fetch: o.fetch,
    rules: o.failover,
    stats: state.stats,
    metrics: state.metrics,
    now: o.now,
    onError: (m) => o.logger.error(m),
  };
  const aliases = new AliasRouter(o.models, state.providers, (id) => state.keys.pool(id));
  const catalog = new ModelCatalog(aliases.names);
  const startedSeconds = Math.floor(o.now() / 1000);
  for (const provider of o.providers) {
    const keys = state.keys.pool(provider.id);
    for (const endpoint of provider.endpoints) {
      const listing = isModelList(endpoint.method, endpoint.path);
      const forward = async (c: Context<PoolEnv>, record: TokenRecord, request: ParsedRequest, startedAt: number): Promise<Response> => {
        const url = c.req.url;
        const q = url.indexOf("?");
        const search = q < 0 ? "" : url.slice(q);
        const cacheKey = state.cache.options.enabled && !request.stream
          ? state.cache.key(provider.id, endpoint.path + search, request.body)
          : undefined;
        const ctx = (): ExecutionContextLike | undefined => executionContext(c);
        try {
          if (listing) {
            // The union of what the keys list, once probes have read any list; else one key's answer.
            const body = catalog.body(keys, endpoint.format, startedSeconds);
            if (body !== undefined) {
              state.stats.request({ provider: provider.id, tokenId: record.id, outcome: "success" });
              return new Response(body, { headers: { "content-type": "application/json" } });
            }
          }
          if (cacheKey) {
            const hit = await state.cache.get(cacheKey);
            if (hit) {
              state.stats.request({ provider: provider.id, model: request.model, tokenId: record.id, outcome: "success" });
              return hit;
            }
          }
          const call: ProxyCall = {
            provider, keys, endpoint, request,
            headers: c.req.raw.headers,
            search,
            onClientGone: (c.env as { [CLIENT_GONE]?: ClientGone } | undefined)?.[CLIENT_GONE] ?? signalGone(c.req.raw.signal),
            tokenId: record.id,
            // Only tokens with a per-minute or total limit need their usage told.
            onUsage: record.tpm === undefined && record.quota === undefined
              ? undefined
              : (u) => state.limits.usage(record, u.promptTokens + u.completionTokens),
            // A stream is counted when it ends, after the handler returned: tick then too, so its
            // counts are written without waiting for the next request (Workers, Deno Deploy).
            onFinish: () => state.tick(ctx),
            startedAt,
          };
          let res = aliases.applies(endpoint, request.model)
            ? await aliases.proxy(deps, call, request.model!)
            : await proxyWithFailover(deps, call);
          if (listing && aliases.names.length > 0 && endpoint.format === "openai" && res.status === 200) {
            const bytes: Uint8Array<ArrayBuffer> = new Uint8Array(await res.arrayBuffer());
            const merged = withAliases(bytes, aliases.names, "pool", startedSeconds) ?? bytes;
            res = new Response(merged, { status: 200, headers: { "content-type": "application/json" } });
          }
          return cacheKey ? await storeInCache(state, cacheKey, res, provider.id, request.model) : res;
        } finally {
          state.tick(ctx);
        }
      };

      app.on(endpoint.method, endpoint.path, async (c) => {
        const startedAt = performance.now();
        let model: string | undefined;
        try {
          state.limits.checkIp(o.clientIp(c.req.raw, c.env));
          const token = presentedToken(c.req.raw.headers);
          if (!token) throw new PoolError(401, "missing_api_key", "missing client token: send 'Authorization: Bearer <token>'");
          const record = state.tokens.verify(token);
          if (!record) throw new PoolError(401, "invalid_api_key", "invalid or expired client token");
          const request = await parseProxyRequest(c.req.raw, endpoint, o.maxBodyBytes);
          model = request.model === undefined ? undefined : statsModelName(request.model);
          state.limits.checkToken(record, request.model);
          const res = await forward(c, record, request, startedAt);
          state.metrics.request(provider.id, model, res.status);
          return res;
        } catch (err) {
          state.metrics.request(provider.id, model, (err as { status?: number }).status ?? 500);
          throw err;
        }
      });
    }
  }
  return app;
}
