/**
 * The Provider contract: what the pool needs to know about one upstream API.
 * Presets (ollama, openrouter, openaiCompatible) are factories returning these literals.
 * @module
 */

/** What one upstream attempt says about the key that made it. */
export type KeyOutcome =
  | { kind: "ok" }
  /**
   * 429, 5xx, timeouts, connection errors: rest the key for `ms`, try the next one.
   * `retryAfterMs` is set only when the upstream said how long to wait.
   */
  | { kind: "cooldown"; ms: number; reason: string; rateLimited?: boolean; retryAfterMs?: number }
  /** 401/403/402: the key itself is bad; counts toward disabling it. */
  | { kind: "failure"; reason: string }
  /** 400/404/422...: the caller's fault; answered as is, the key is not blamed. */
  | { kind: "client-error" };

/** How the pool reads usage and shapes in-band errors for an endpoint. */
export type WireFormat = "openai" | "ollama";

/** One proxied route: a client path mapped to an upstream URL. */
export interface Endpoint {
  method: "GET" | "POST";
  /** Path the pool serves, e.g. `/v1/chat/completions`. */
  path: string;
  /** Absolute upstream URL. */
  upstream: string;
  format: WireFormat;
  /** OpenAI chat completions: the pool asks for `stream_options.include_usage`. */
  chat?: boolean;
}

/** The timing knobs {@link Provider.classify} needs to turn a response into an outcome. */
export interface ClassifyRules {
  /** Cooldown after a 429 without a usable Retry-After. */
  rateLimitCooldownMs: number;
  /** Cooldown after a 5xx, a timeout or a connection error. */
  errorCooldownMs: number;
}

/** How to check one key cheaply: an authorized request whose success proves the key works. */
export interface ProbeSpec {
  method: "GET" | "POST";
  /** Absolute upstream URL. */
  url: string;
  /** JSON body for POST probes (e.g. a 1-token completion where no model list needs auth). */
  body?: string;
  /** Model ids from the probe's answer, for categorizing what the key can use. */
  models?(json: unknown): string[];
}

/**
 * Where a key's usage of its plan can be read (Ollama Cloud's undocumented `/api/usage`), and how
 * to read the answer: shares 0–1 of the session and weekly limits, undefined when unreadable.
 */
export interface UsageSpec {
  url: string;
  read(json: unknown): { session?: number; weekly?: number } | undefined;
}

/** One upstream API the pool spreads requests over. */
export interface Provider {
  /** Stable id, also the `?provider=` value of the admin API: `ollama`, `openrouter`, ... */
  id: string;
  /** Upstream base URL, shown in `/health`. */
  baseURL: string;
  endpoints: Endpoint[];
  /**
   * Puts the upstream key on an outgoing request. It must depend only on `secret`: the proxy
   * calls it once per key and reuses the headers it set (see `authorizedBase` in attempt.ts).
   */
  authorize(headers: Headers, secret: string): void;
  /** Static headers for every upstream request (e.g. OpenRouter's `HTTP-Referer`). */
  headers?: Record<string, string>;
  /** How health checks and validated imports test a key. */
  probe?: ProbeSpec;
  /** Where usage polling reads a key's usage (`healthCheck.usageIntervalMs`). */
  usage?: UsageSpec;
  /** Overrides the default classification; return undefined to fall back to it. */
  classify?(res: Response | Error, rules: ClassifyRules): KeyOutcome | undefined;
}
