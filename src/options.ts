/**
 * Options of `createPool`, their defaults, and validation with messages that name the field.
 * @module
 */
import { createStorage, type Driver, type Storage } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import type { HealthRules } from "./keys/types.ts";
import type { RateLimitOptions } from "./limits/limits.ts";
import type { CacheOptions } from "./cache/response_cache.ts";
import { aliasProblem, type ModelAliases } from "./proxy/aliases.ts";
import type { FailoverRules } from "./proxy/failover.ts";
import { urlProblem } from "./providers/base_url.ts";
import type { Provider } from "./providers/types.ts";
import type { FetchLike, Logger } from "./types.ts";
import { type ResolvedUsersOptions, resolveUsersOptions, type UsersOptions } from "./users/options.ts";

export type { Logger } from "./types.ts";

/** Admin credential options. */
export interface AuthOptions {
  /**
   * The admin token (`Authorization: Bearer <adminToken>` on `/admin/*`), at least 16 characters.
   * When unset, one is generated on the first start, stored as a hash, and passed to
   * `onAdminTokenGenerated`.
   */
  adminToken?: string;
  /**
   * Receives a generated admin token, once.
   * @default logs it through `logger.warn`
   */
  onAdminTokenGenerated?: (token: string) => void;
}

/** Retry, cooldown and disable rules: when a key rests, when it is disabled, how often a request retries. */
export interface FailoverOptions extends FailoverRules, HealthRules {}

/** Health checks and validated imports. */
export interface HealthCheckSettings {
  /** Keys probed at once. @default 8 */
  concurrency?: number;
  /** Per-key probe timeout. @default 10000 */
  timeoutMs?: number;
  /** Re-probe disabled keys this often (`HEALTH_CHECK_INTERVAL`, in seconds, for the server). @default off */
  intervalMs?: number;
  /**
   * Read the model list of every newly added key in the background (a few per tick, at the
   * probe's concurrency), so requests go only to keys that list their model. Keys whose list is
   * unknown are tried for any model. @default false (the server turns it on: `DISCOVER_MODELS`)
   */
  discoverModels?: boolean;
  /**
   * Ask each key of providers with a usage endpoint (Ollama Cloud's undocumented `/api/usage`)
   * for its usage this often, 16 keys at a time at most; a key at 98 % of a window rests until
   * the window resets. Best effort: an absent or changed endpoint changes nothing. @default off
   */
  usageIntervalMs?: number;
}

/** Options of `createPool`. */
export interface PoolOptions {
  /** Upstream providers; at least one. Their endpoint paths must not overlap. */
  providers: Provider[];
  /**
   * Model aliases for the `/v1` routes (OpenAI, Responses, Anthropic Messages): a client asking for the alias gets the first
   * target with a key that serves it, and the next target when that one cannot serve.
   * @example { fast: [{ provider: "ollama", model: "gpt-oss:20b" }, { provider: "groq", model: "openai/gpt-oss-20b" }] }
   * @default none
   */
  models?: ModelAliases;
  /**
   * Any unstorage `Storage`, or a driver to wrap in one.
   * @default in-memory storage (nothing survives a restart)
   */
  storage?: Storage | Driver;
  auth?: AuthOptions;
  /**
   * Upstream transport: any `fetch`, or a `fetch` that also implements the pool's transport
   * contract (`send`, see `Transport`), such as the Node adapter's faster `undiciFetch()`.
   * @default globalThis.fetch
   */
  fetch?: FetchLike;
  /** Overrides of the failover rules; see {@link DEFAULT_FAILOVER}. */
  failover?: Partial<FailoverOptions>;
  /**
   * How often pending statistics are written, at most.
   * @default 5000
   */
  flushIntervalMs?: number;
  /**
   * How often key-state changes are written and other instances' changes read, at most. With
   * several instances on one store, a key disabled on one is skipped by all within about twice this.
   * @default 2000
   */
  syncIntervalMs?: number;
  /**
   * Largest accepted request body in bytes; larger ones get 413.
   * @default 20_971_520 (20 MiB)
   */
  maxBodyBytes?: number;
  /**
   * Largest upstream answer the pool holds in memory (`MAX_RESPONSE_BYTES` for the server):
   * non-stream answers, error bodies and probe answers, counted after decompression. A larger
   * one ends the request with a 502 `upstream_response_too_large`; the key is not blamed.
   * Streams pass through and are not bounded by it.
   * @default 33_554_432 (32 MiB)
   */
  maxResponseBytes?: number;
  /**
   * Longest gap between two chunks of an upstream body (`STREAM_IDLE_TIMEOUT_MS`): a stream that
   * goes quiet this long ends with the in-band error event; a non-stream body, before anything
   * reached the client, is given up on and the next key tried.
   * @default 60_000
   */
  streamIdleTimeoutMs?: number;
  /**
   * Longest time for a whole non-stream upstream body, from its headers to its last byte
   * (`UPSTREAM_BODY_TIMEOUT_MS`): an upstream that trickles keeps every gap under
   * `streamIdleTimeoutMs` yet must not hold the request for as long as it likes. Past it the
   * body is given up on and the next key tried (nothing has reached the client). Streams are
   * not bounded by it. Long enough for an upstream that sends its headers early and the answer
   * when it is generated.
   * @default 300_000
   */
  upstreamBodyTimeoutMs?: number;
  healthCheck?: HealthCheckSettings;
  /** Cache of non-stream answers (`X-Cache: HIT|MISS`). @default off */
  cache?: CacheOptions;
  /** Request limits per client IP and per client token. @default none */
  rateLimit?: RateLimitOptions;
  /**
   * Days the request log keeps its records (`LOG_RETENTION_DAYS`); 0 turns the log off.
   * @default 7
   */
  logRetentionDays?: number;
  /**
   * The user system: email-code registration, login, daily check-in, `/api/auth/*` and
   * `/admin/users`. Needs `secret` (`AUTH_SECRET`).
   * @default off
   */
  users?: UsersOptions;
  /**
   * The client's IP address, for per-IP limits. The default believes Cloudflare's
   * `cf-connecting-ip` on Workers only (elsewhere: unknown, so per-IP limits are off); the Node
   * adapter offers `nodeClientIp()` (socket address, or the last `x-forwarded-for` entry behind
   * a trusted proxy); on Deno use `(req, info) => info.remoteAddr.hostname`.
   */
  clientIp?: (request: Request, env: unknown) => string | undefined;
  /**
   * The clock, in epoch ms. Tests pass a controllable one.
   * @default Date.now
   */
  now?: () => number;
  /** @default console */
  logger?: Logger;
  /**
   * Browser origins allowed to call the proxy routes (CORS): `"*"` for any, or a list
   * (`["https://chat.example"]`, or the same comma-separated, as `CORS_ORIGINS` takes it). Admin,
   * dashboard, metrics and user routes never answer cross-origin requests.
   * @default "*"
   */
  corsOrigins?: string | string[];
}

/** The failover defaults. */
export const DEFAULT_FAILOVER: FailoverOptions = {
  maxAttempts: 3,
  firstByteTimeoutMs: 30_000,
  modelUnavailableMs: 600_000,
  rateLimitCooldownMs: 60_000,
  errorCooldownMs: 5_000,
  failuresBeforeDisable: 3,
  disableMs: 3_600_000,
};

/** Options with every default filled in. */
export interface ResolvedOptions {
  providers: Provider[];
  models: ModelAliases;
  storage: Storage;
  auth: AuthOptions;
  fetch: FetchLike;
  failover: FailoverOptions;
  flushIntervalMs: number;
  syncIntervalMs: number;
  maxBodyBytes: number;
  maxResponseBytes: number;
  streamIdleTimeoutMs: number;
  upstreamBodyTimeoutMs: number;
  healthCheck: {
    concurrency: number;
    timeoutMs: number;
    intervalMs?: number;
    discoverModels: boolean;
    usageIntervalMs?: number;
  };
  rateLimit: RateLimitOptions;
  cache: CacheOptions;
  logRetentionDays: number;
  clientIp: (request: Request, env: unknown) => string | undefined;
  now: () => number;
  logger: Logger;
  /** `"*"` or the exact origins allowed. */
  corsOrigins: "*" | string[];
  users?: ResolvedUsersOptions;
}

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

/** Fills defaults and validates; throws a TypeError naming the first bad field. */
export function resolveOptions(o: PoolOptions): ResolvedOptions {
  if (typeof o !== "object" || o === null) fail("options: an object is required");
  if (!Array.isArray(o.providers) || o.providers.length === 0) fail("providers: at least one provider is required");
  const ids = new Set<string>();
  const paths = new Map<string, string>();
  o.providers.forEach((p, i) => {
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
    fetch: o.fetch ?? ((input, init) => fetch(input, init)),
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
