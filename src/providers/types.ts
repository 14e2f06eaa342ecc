/**
 * The Provider contract: what the pool needs to know about one upstream API.
 * Presets (ollama, openrouter, openaiCompatible) are factories returning these literals.
 * @module
 */
import type { UsageWindow } from "./usage_caps.ts";

import type { WireFormat } from "../wire/types.ts";

/** What one upstream attempt says about the key that made it. */
export type KeyOutcome =
  | { kind: "ok" }
  /**
   * 429, 5xx, timeouts, connection errors: rest the key for `ms`, try the next one.
   * `retryAfterMs` is set only when the upstream said how long to wait; a rate limit without it
   * rests the key longer each time it repeats (see KeyPool.report).
   * `cap`: the account used up its allowance for that window (a usage cap). The key rests the
   * whole `ms`, until the window resets: no pool-wide rate limit or other rest shortens it.
   */
  | { kind: "cooldown"; ms: number; reason: string; rateLimited?: boolean; retryAfterMs?: number; cap?: UsageWindow }
  /** 401/403/402: the key itself is bad; counts toward disabling it. */
  | { kind: "failure"; reason: string }
  /** 400/404/422...: the caller's fault; answered as is, the key is not blamed. */
  | { kind: "client-error" };

export type { WireFormat } from "../wire/types.ts";

/**
 * The client APIs a provider can serve: OpenAI `chat` (completions), `completions` (legacy),
 * `embeddings`, `models`, `responses` (OpenAI Responses), `messages` (Anthropic Messages and its
 * token count), and `native` (Ollama's `/api/*`).
 */
export type Surface = "chat" | "completions" | "embeddings" | "models" | "responses" | "messages" | "native";

/** One proxied route: a client path mapped to an upstream URL. */
export interface Endpoint {
  method: "GET" | "POST";
  /** Path the pool serves, e.g. `/v1/chat/completions`. */
  path: string;
  /** Absolute upstream URL. */
  upstream: string;
  /** The dialect: how requests are read, usage found, and errors shaped on this route. */
  format: WireFormat;
}

/** The timing knobs {@link Provider.classify} needs to turn a response into an outcome. */
export interface ClassifyRules {
  /** Cooldown after a 429 without a usable Retry-After; doubled for each further one in a row, at most 1 h. */
  rateLimitCooldownMs: number;
  /** Cooldown after a 5xx, a timeout or a connection error. */
  errorCooldownMs: number;
}

/**
 * Most bytes of an error answer's body the pool reads for {@link Provider.classify} (64 KiB):
 * reasons such as usage caps fit in a few hundred.
 */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** What the pool hands {@link Provider.classify} besides the answer itself. */
export interface AnswerContext {
  /** The pool's clock (epoch ms), for Retry-After dates and reset times. */
  now: number;
  /**
   * The start of the body (at most MAX_ERROR_BODY_BYTES, decoded as UTF-8) of an answer the pool
   * never passes on — 401, 402, 403, 408, 429, 5xx — where the reason is often only in the body.
   * The body of the Response is already read then. It is the upstream's text, unredacted (some
   * echo the key): take facts from it, never copy it into a reason, which admins see. Undefined
   * for other answers (their bodies go back to the client unread) and when the body did not
   * arrive within a few seconds.
   */
  body?: string;
}

/** Statuses whose bodies the pool reads for classification (see {@link AnswerContext.body}). */
export function bodyForClassify(status: number): boolean {
  return status === 429 || status >= 500 || status === 401 || status === 402 || status === 403 || status === 408;
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
  /** The client APIs the endpoints serve (see {@link Surface}). */
  surfaces?: Surface[];
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
  /**
   * Overrides the default classification; return undefined to fall back to it. `res` is the
   * upstream answer (headers arrived) or the error that ended the attempt.
   */
  classify?(res: Response | Error, rules: ClassifyRules, answer: AnswerContext): KeyOutcome | undefined;
}
