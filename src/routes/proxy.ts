/** The proxy routes of every provider, all through the one failover path. @module */
import { type Context, Hono } from "hono";
import { presentedToken } from "../auth/bearer.ts";
import { PoolError } from "../errors.ts";
import { isModelList, ModelCatalog, withAliases } from "../keys/catalog.ts";
import { AliasRouter } from "../proxy/aliases.ts";
import { requestIdFor } from "../logs/request_id.ts";
import { RequestTrace } from "../logs/trace.ts";
import { type ProxyCall, type ProxyDeps, proxyWithFailover } from "../proxy/failover.ts";
import { type ParsedRequest, parseProxyRequest } from "../proxy/request.ts";
import { clientGoneOf } from "../proxy/server_link.ts";
import { transportOf } from "../proxy/transport.ts";
import { reservationEstimate } from "../limits/limits.ts";
import { statsModelName } from "../stats/recorder.ts";
import type { TokenRecord } from "../auth/types.ts";
import type { Endpoint } from "../providers/types.ts";
import type { ExecutionContextLike, PoolState } from "../state.ts";
import { executionContext, type PoolEnv } from "./context.ts";
import { proxyCors } from "./cors.ts";

/** Whether an answer is a stream the proxy passes through (its body has no bound in memory). */
function streamed(res: Response): boolean {
  const type = res.headers.get("content-type") ?? "";
  return type.includes("event-stream") || type.includes("ndjson");
}

/** Keeps a successful non-stream answer; marks it `X-Cache: MISS`. */
async function storeInCache(
  state: PoolState,
  key: string,
  res: Response,
  provider: string,
  model?: string,
): Promise<Response> {
  if (res.status !== 200 || streamed(res)) return res;
  const body = new Uint8Array(await res.arrayBuffer());
  const headers = new Headers(res.headers);
  const id = headers.get("x-request-id");
  headers.delete("x-request-id"); // this request's, not the answer's: each hit gets its own
  await state.cache.set(key, { status: res.status, headers, body }, provider, model);
  headers.set("x-cache", "MISS");
  if (id !== null) headers.set("x-request-id", id);
  return new Response(body, { status: res.status, headers });
}

/**
 * A request's record under way, once its token is valid: it feeds the dashboard's latency and
 * error counters always, and the request log when that is on.
 */
function logTrace(
  state: PoolState,
  id: string,
  provider: string,
  endpoint: Endpoint,
  token: TokenRecord,
  ip: string | undefined,
): RequestTrace {
  const logs = state.logs;
  const t = state.options.now();
  return new RequestTrace(
    {
      t,
      id,
      provider,
      route: endpoint.path,
      dialect: endpoint.format.id,
      stream: false,
      token: token.id,
      tokenName: token.name,
      ...(token.userId === undefined ? {} : { user: token.userId }),
      ...(ip === undefined ? {} : { ip }),
    },
    () => performance.now(),
    (r) => {
      logs?.add(r);
      state.stats.finished(r.provider, r.t, r.ms, r.status, r.error); // an alias's target's provider
    },
  );
}

/** Registers each provider endpoint; client tokens are checked before anything else. */
export function proxyRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();
  const o = state.options;
  const deps: ProxyDeps = {
    transport: transportOf(o.fetch),
    rules: o.failover,
    limits: o,
    stats: state.stats,
    metrics: state.metrics,
    now: o.now,
    onError: (m) => o.logger.error(m),
  };
  const aliases = new AliasRouter(o.models, state.providers, (id) => state.keys.pool(id));
  const catalog = new ModelCatalog(aliases.names);
  const startedSeconds = Math.floor(o.now() / 1000);
  const cors = proxyCors(o.corsOrigins);
  for (const provider of o.providers) {
    const keys = state.keys.pool(provider.id);
    for (const endpoint of provider.endpoints) {
      const listing = isModelList(endpoint.method, endpoint.path);
      const forward = async (
        c: Context<PoolEnv>,
        record: TokenRecord,
        request: ParsedRequest,
        startedAt: number,
        requestId: string,
        trace: RequestTrace | undefined,
        release: (() => void) | undefined,
      ): Promise<Response> => {
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
              trace?.ended();
              return new Response(body, { headers: { "content-type": "application/json", "x-request-id": requestId } });
            }
          }
          if (cacheKey) {
            const hit = await state.cache.get(cacheKey);
            if (hit) {
              release?.(); // a cached answer costs no tokens
              state.stats.request({
                provider: provider.id,
                model: request.model,
                tokenId: record.id,
                outcome: "success",
              });
              trace?.ended();
              const headers = new Headers(hit.headers);
              headers.set("x-request-id", requestId);
              return new Response(hit.body, { status: hit.status, headers });
            }
          }
          const call: ProxyCall = {
            provider,
            keys,
            endpoint,
            request,
            headers: c.req.raw.headers,
            search,
            onClientGone: clientGoneOf(c.req.raw),
            tokenId: record.id,
            // Only tokens with a per-minute or total limit need their usage told.
            onUsage: record.tpm === undefined && record.quota === undefined
              ? undefined
              : (u) => state.limits.usage(record, u.promptTokens + u.completionTokens),
            // A stream is counted when it ends, after the handler returned: tick then too, so its
            // counts are written without waiting for the next request (Workers, Deno Deploy).
            // The reservation made at admission ends with the request, after onUsage counted
            // what it really cost (or the estimate, for a client that left).
            onFinish: () => (release?.(), state.tick(ctx)),
            startedAt,
            requestId,
            trace,
          };
          let res = aliases.applies(endpoint, request.model)
            ? await aliases.proxy(deps, call, request.model!)
            : await proxyWithFailover(deps, call);
          // Only a whole JSON answer is merged: it was read within maxResponseBytes already. A
          // streamed one is passed on as it is (reading it here had no bound, nor an end).
          if (
            listing && aliases.names.length > 0 && endpoint.format.id !== "ollama_native" && res.status === 200 &&
            !streamed(res)
          ) {
            const bytes: Uint8Array<ArrayBuffer> = new Uint8Array(await res.arrayBuffer());
            const merged = withAliases(bytes, aliases.names, "pool", startedSeconds) ?? bytes;
            res = new Response(merged, {
              status: 200,
              headers: { "content-type": "application/json", "x-request-id": requestId },
            });
          }
          return cacheKey ? await storeInCache(state, cacheKey, res, provider.id, request.model) : res;
        } finally {
          state.tick(ctx);
        }
      };

      // Before the handler: a preflight is answered here, without a token.
      app.use(endpoint.path, cors);
      app.on(endpoint.method, endpoint.path, async (c) => {
        const startedAt = performance.now();
        const requestId = requestIdFor(c.req.raw.headers);
        let model: string | undefined;
        let trace: RequestTrace | undefined;
        let release: (() => void) | undefined;
        try {
          const ip = o.clientIp(c.req.raw, c.env);
          state.limits.checkIp(ip);
          const token = presentedToken(c.req.raw.headers);
          if (!token) {
            throw new PoolError(
              401,
              "missing_api_key",
              "missing client token: send 'Authorization: Bearer <token>' (or 'x-api-key: <token>')",
            );
          }
          const record = state.tokens.verify(token);
          if (!record) {
            // Only wrong tokens are throttled: a token that verifies always passes, so nobody can
            // lock out the clients that share an address (a NAT, a proxy without TRUST_PROXY, a
            // web page a victim opens) by guessing from it. That tells a guesser nothing useful:
            // client tokens are 48 random characters, out of reach of any number of guesses.
            state.guesses.token.check(ip);
            throw (await state.guesses.token.failed(ip)) ??
              new PoolError(401, "invalid_api_key", "invalid or expired client token");
          }
          // Logged from here on: requests without a valid token are counted in /metrics only,
          // so a flood of guesses cannot push real requests out of the log's buffer.
          trace = logTrace(state, requestId, provider.id, endpoint, record, ip);
          const request = await parseProxyRequest(c.req.raw, endpoint, o.maxBodyBytes);
          model = request.model === undefined ? undefined : statsModelName(request.model);
          if (trace) (trace.record.model = model, trace.record.stream = request.stream);
          release = state.limits.checkToken(
            record,
            request.model,
            reservationEstimate(request.body, request.maxOutputTokens),
          );
          const res = await forward(c, record, request, startedAt, requestId, trace, release);
          state.metrics.request(provider.id, model, res.status);
          trace?.responded(res.status, res.status >= 400 ? `upstream_${res.status}` : undefined);
          return res;
        } catch (err) {
          release?.(); // no-op when the request's finish already released it
          const status = (err as { status?: number }).status ?? 500;
          state.metrics.request(provider.id, model, status);
          trace?.responded(status, err instanceof PoolError ? err.code : "internal_error");
          trace?.ended();
          let error: PoolError;
          if (err instanceof PoolError) error = err;
          else {
            // Unforeseen (a provider hook's bug): logged here, answered like the pool's own errors.
            o.logger.error(
              `[ollama-api-pool] ${endpoint.method} ${endpoint.path} failed: ${(err as Error)?.stack ?? err}`,
            );
            error = new PoolError(500, "internal_error", "internal error in the pool");
          }
          error.requestId = requestId;
          // The pool's errors in the route's own dialect (Anthropic clients parse Anthropic's shape).
          const res = endpoint.format.errorResponse(error);
          res.headers.set("x-request-id", requestId);
          return res;
        }
      });
    }
  }
  return app;
}
