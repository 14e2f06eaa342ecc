/**
 * `createPool`'s options resolved: every default filled in, every value validated, with a
 * message that names the field (and the setting, where the server reads one).
 * @module
 */
import { createStorage, type Storage } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import { DEFAULT_FAILOVER, type PoolOptions, type ResolvedOptions } from "./options.ts";
import { aliasProblem } from "./proxy/aliases.ts";
import { sameOriginFetch } from "./proxy/redirects.ts";
import { urlProblem } from "./providers/base_url.ts";
import type { Provider } from "./providers/types.ts";
import { resolveUsersOptions } from "./users/options.ts";

/** Shortest admin token accepted: with the per-address guess throttle, 16 characters are out of reach. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

const PROVIDER_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

function fail(message: string): never {
  throw new TypeError(`[ollama-api-pool] ${message}`);
}

function positiveInt(name: string, v: unknown, allowZero = false): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < (allowZero ? 0 : 1)) {
    fail(`${name}: must be ${allowZero ? "a non-negative" : "a positive"} integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Longest wait a timer can hold on Node, Deno, Bun and Workers (2^31-1 ms, about 24.8 days): a
 * longer one fires after 1 ms, so a "very long" timeout would end every wait at once.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A positive integer that a timer can wait for. */
function timerMs(name: string, v: unknown): number {
  const ms = positiveInt(name, v);
  if (ms > MAX_TIMER_MS) fail(`${name}: at most ${MAX_TIMER_MS} ms (a timer cannot wait longer), got ${ms}`);
  return ms;
}

function isStorage(s: object): s is Storage {
  return typeof (s as Storage).mount === "function" && typeof (s as Storage).getItem === "function";
}

/** Ids well-formed and unique, endpoints present with usable upstream URLs, no route served twice. */
function checkProviders(providers: Provider[]): void {
  const ids = new Set<string>();
  const paths = new Map<string, string>();
  providers.forEach((p, i) => {
    if (!p || typeof p !== "object") {
      fail(`providers[${i}]: not a provider (use ollama(), openrouter() or openaiCompatible())`);
    }
    if (!PROVIDER_ID.test(p.id)) fail(`providers[${i}].id: "${p.id}" must be lowercase letters, digits, "-" or "_"`);
    if (ids.has(p.id)) fail(`providers[${i}].id: "${p.id}" is used twice`);
    ids.add(p.id);
    if (!Array.isArray(p.endpoints) || p.endpoints.length === 0) {
      fail(`providers[${i}].endpoints: at least one endpoint is required`);
    }
    if (typeof p.authorize !== "function") fail(`providers[${i}].authorize: a function is required`);
    for (const e of p.endpoints) {
      const problem = urlProblem(e.upstream);
      if (problem) fail(`providers[${i}] (${p.id}): upstream URL ${problem}`);
      const route = `${e.method} ${e.path}`;
      const other = paths.get(route);
      if (other) fail(`providers[${i}] (${p.id}): route ${route} is already served by provider "${other}"`);
      paths.set(route, p.id);
    }
  });
}

/** Fills defaults and validates; throws a TypeError naming the first bad field. */
export function resolveOptions(o: PoolOptions): ResolvedOptions {
  if (typeof o !== "object" || o === null) fail("options: an object is required");
  if (!Array.isArray(o.providers) || o.providers.length === 0) fail("providers: at least one provider is required");
  checkProviders(o.providers);
  const aliasError = aliasProblem(o.models, o.providers);
  if (aliasError) fail(aliasError);
  let storage: Storage;
  if (o.storage === undefined) storage = createStorage({ driver: memoryDriver() });
  else if (typeof o.storage !== "object" || o.storage === null) {
    fail("storage: an unstorage Storage or driver is required");
  } else storage = isStorage(o.storage) ? o.storage : createStorage({ driver: o.storage });

  const adminToken = o.auth?.adminToken;
  if (adminToken !== undefined && (typeof adminToken !== "string" || adminToken.length < MIN_ADMIN_TOKEN_LENGTH)) {
    fail(
      `auth.adminToken (ADMIN_TOKEN): must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters; a short one can be guessed (leave it unset to have one generated)`,
    );
  }
  const failover = { ...DEFAULT_FAILOVER, ...o.failover };
  for (const [k, v] of Object.entries(failover)) positiveInt(`failover.${k}`, v);
  timerMs("failover.firstByteTimeoutMs", failover.firstByteTimeoutMs);
  if (o.fetch !== undefined && typeof o.fetch !== "function") fail("fetch: must be a fetch-like function");
  if (o.now !== undefined && typeof o.now !== "function") fail("now: must be a function returning epoch ms");
  const logger = o.logger ?? console;
  const users = resolveUsersOptions(o.users, o.providers.map((p) => p.id), logger);
  return {
    providers: o.providers,
    models: o.models ?? {},
    storage,
    auth: o.auth ?? {},
    // Every upstream request (proxy, probes, usage polls, mail, Turnstile) goes through this one
    // function: redirects are followed only within the origin asked (see redirects.ts).
    fetch: sameOriginFetch(o.fetch ?? ((input, init) => fetch(input, init))),
    failover,
    flushIntervalMs: positiveInt("flushIntervalMs", o.flushIntervalMs ?? 5000),
    syncIntervalMs: positiveInt("syncIntervalMs", o.syncIntervalMs ?? 2000),
    maxBodyBytes: positiveInt("maxBodyBytes", o.maxBodyBytes ?? 20 * 1024 * 1024),
    maxResponseBytes: positiveInt("maxResponseBytes", o.maxResponseBytes ?? 32 * 1024 * 1024),
    streamIdleTimeoutMs: timerMs("streamIdleTimeoutMs", o.streamIdleTimeoutMs ?? 60_000),
    upstreamBodyTimeoutMs: timerMs("upstreamBodyTimeoutMs", o.upstreamBodyTimeoutMs ?? 300_000),
    rateLimit: {
      ...(o.rateLimit?.perIp === undefined ? {} : { perIp: positiveInt("rateLimit.perIp", o.rateLimit.perIp) }),
      ...(o.rateLimit?.perToken === undefined
        ? {}
        : { perToken: positiveInt("rateLimit.perToken", o.rateLimit.perToken) }),
      windowMs: positiveInt("rateLimit.windowMs", o.rateLimit?.windowMs ?? 60_000),
    },
    cache: {
      ...o.cache,
      ...(o.cache?.ttlMs === undefined ? {} : { ttlMs: positiveInt("cache.ttlMs", o.cache.ttlMs) }),
      ...(o.cache?.maxEntries === undefined ? {} : { maxEntries: positiveInt("cache.maxEntries", o.cache.maxEntries) }),
      ...(o.cache?.maxBytes === undefined ? {} : { maxBytes: positiveInt("cache.maxBytes", o.cache.maxBytes) }),
    },
    logRetentionDays: positiveInt("logRetentionDays", o.logRetentionDays ?? 7, true),
    clientIp: o.clientIp ?? cloudflareClientIp,
    healthCheck: {
      concurrency: positiveInt("healthCheck.concurrency", o.healthCheck?.concurrency ?? 8),
      timeoutMs: timerMs("healthCheck.timeoutMs", o.healthCheck?.timeoutMs ?? 10_000),
      ...(o.healthCheck?.intervalMs === undefined
        ? {}
        : { intervalMs: positiveInt("healthCheck.intervalMs", o.healthCheck.intervalMs) }),
      discoverModels: o.healthCheck?.discoverModels === true,
      ...(o.healthCheck?.usageIntervalMs === undefined
        ? {}
        : { usageIntervalMs: positiveInt("healthCheck.usageIntervalMs", o.healthCheck.usageIntervalMs) }),
    },
    now: o.now ?? Date.now,
    logger,
    corsOrigins: resolveCorsOrigins(o.corsOrigins),
    ...(users ? { users } : {}),
  };
}

/** `"*"`, a comma-separated list, or a list of origins, validated as `scheme://host[:port]`. */
function resolveCorsOrigins(v: string | string[] | undefined): "*" | string[] {
  if (v === undefined) return "*";
  const list = (typeof v === "string" ? v.split(",") : v).map((s) => typeof s === "string" ? s.trim() : "").filter((
    s,
  ) => s !== "");
  if (list.length === 0 || list.includes("*")) return "*";
  for (const origin of list) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      fail(`corsOrigins: "${origin}" is not an origin like https://chat.example (no path, no trailing slash)`);
    }
  }
  return list;
}

/**
 * The default client address: Cloudflare's `cf-connecting-ip`, believed only on Workers (where
 * the request carries `cf` and Cloudflare sets the header itself). Anywhere else a client could
 * send it, so without a `clientIp` option the address is unknown and per-address limits are off.
 */
function cloudflareClientIp(req: Request): string | undefined {
  if ((req as Request & { cf?: unknown }).cf === undefined) return undefined;
  return req.headers.get("cf-connecting-ip") ?? undefined;
}
