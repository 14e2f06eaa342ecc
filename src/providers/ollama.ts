/** The Ollama preset: OpenAI routes under `/v1` and Ollama's native `/api/*` routes. @module */
import type { AnswerContext, ClassifyRules, Endpoint, KeyOutcome, Provider } from "./types.ts";
import { bearer, openaiEndpoints, openaiModelsProbe, trimSlash } from "./openai_compatible.ts";
import { usageCapOf } from "./usage_caps.ts";

/** Options of {@link ollama}. */
export interface OllamaOptions {
  /**
   * Upstream root (not including `/v1` or `/api`).
   * @default "https://ollama.com"
   */
  baseURL?: string;
}

const NATIVE: Array<[Endpoint["method"], string]> = [
  ["POST", "/api/chat"],
  ["POST", "/api/generate"],
  ["POST", "/api/embed"],
  ["POST", "/api/embeddings"],
  ["POST", "/api/show"],
  ["GET", "/api/tags"],
];

/**
 * Ollama Cloud's usage caps: a 429 whose body says a session, hourly, weekly or monthly usage
 * limit was reached rests the key until that window resets (see usage_caps.ts). Anything else
 * falls back to the default classification.
 */
export function classifyOllama(res: Response | Error, _rules: ClassifyRules, answer: AnswerContext): KeyOutcome | undefined {
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
  return {
    id: "ollama",
    baseURL: base,
    endpoints: [
      ...openaiEndpoints("/v1", `${base}/v1`),
      ...NATIVE.map(([method, path]): Endpoint => ({ method, path, upstream: base + path, format: "ollama" })),
    ],
    authorize: bearer,
    probe: openaiModelsProbe(`${base}/v1`),
    classify: classifyOllama,
  };
}
