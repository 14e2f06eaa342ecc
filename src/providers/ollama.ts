/** The Ollama preset: OpenAI and Responses routes under `/v1`, Anthropic Messages, and Ollama's native `/api/*` routes. @module */
import { ollamaNative } from "../wire/ollama_native.ts";
import type { AnswerContext, ClassifyRules, Endpoint, KeyOutcome, Provider, Surface } from "./types.ts";
import { bearer, openaiEndpoints, openaiModelsProbe, trimSlash } from "./openai_compatible.ts";
import { readOllamaUsage } from "../keys/usage_poll.ts";
import { usageCapOf } from "./usage_caps.ts";

/** Options of {@link ollama}. */
export interface OllamaOptions {
  /**
   * Upstream root (not including `/v1` or `/api`).
   * @default "https://ollama.com"
   */
  baseURL?: string;
  /**
   * The client APIs to serve. Ollama speaks all of them itself, so the pool passes each through.
   * @default ["chat", "completions", "embeddings", "models", "responses", "messages", "native"]
   */
  surfaces?: Surface[];
}

/** Everything Ollama serves: OpenAI's routes and Responses under `/v1`, Anthropic's Messages, its own `/api/*`. */
export const OLLAMA_SURFACES: Surface[] = [
  "chat",
  "completions",
  "embeddings",
  "models",
  "responses",
  "messages",
  "native",
];

const NATIVE: Array<[Endpoint["method"], string]> = [
  ["POST", "/api/chat"],
  ["POST", "/api/generate"],
  ["POST", "/api/embed"],
  ["POST", "/api/embeddings"],
  ["POST", "/api/show"],
  ["GET", "/api/tags"],
  // Open WebUI's connection check and its running-models view.
  ["GET", "/api/version"],
  ["GET", "/api/ps"],
];

/**
 * Ollama Cloud's usage caps: a 429 whose body says a session, hourly, weekly or monthly usage
 * limit was reached rests the key until that window resets (see usage_caps.ts). Anything else
 * falls back to the default classification.
 */
export function classifyOllama(
  res: Response | Error,
  _rules: ClassifyRules,
  answer: AnswerContext,
): KeyOutcome | undefined {
  if (res instanceof Error || res.status !== 429 || !answer.body) return undefined;
  const cap = usageCapOf(answer.body, answer.now);
  if (!cap) return undefined;
  return { kind: "cooldown", ms: cap.until - answer.now, reason: cap.reason, rateLimited: true, cap: cap.window };
}

/**
 * Ollama cloud (or any Ollama server).
 * @example
 * createPool({ providers: [ollama({ baseURL: "http://127.0.0.1:11434" })] });
 */
export function ollama(options: OllamaOptions = {}): Provider {
  const base = trimSlash(options.baseURL ?? "https://ollama.com");
  const surfaces = options.surfaces ?? OLLAMA_SURFACES;
  return {
    id: "ollama",
    baseURL: base,
    endpoints: [
      // Anthropic clients take the root as their base and add `/v1/messages`, which is also Ollama's path.
      ...openaiEndpoints("/v1", `${base}/v1`, surfaces),
      ...(surfaces.includes("native")
        ? NATIVE.map(([method, path]): Endpoint => ({ method, path, upstream: base + path, format: ollamaNative }))
        : []),
    ],
    surfaces: [...surfaces],
    authorize: bearer,
    probe: openaiModelsProbe(`${base}/v1`),
    usage: { url: `${base}/api/usage`, read: readOllamaUsage },
    classify: classifyOllama,
  };
}
