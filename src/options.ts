/**
 * Options of `createPool`: what each one means, its default, and the resolved form the pool runs
 * on. Filling the defaults in and validating them is resolve_options.ts.
 * @module
 */
import type { Driver, Storage } from "unstorage";
import type { HealthRules } from "./keys/types.ts";
import type { RateLimitOptions } from "./limits/limits.ts";
import type { CacheOptions } from "./cache/response_cache.ts";
import type { ModelAliases } from "./proxy/aliases.ts";
import type { FailoverRules } from "./proxy/failover.ts";
import type { Provider } from "./providers/types.ts";
import type { FetchLike, Logger } from "./types.ts";
import type { ResolvedUsersOptions, UsersOptions } from "./users/options.ts";

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
   * An instance without requests for a minute syncs every 30 s instead, and catches up before its
   * next request.
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
