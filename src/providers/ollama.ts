/** The Ollama preset: OpenAI routes under `/v1` and Ollama's native `/api/*` routes. @module */
import type { Endpoint, Provider } from "./types.ts";
import { bearer, openaiEndpoints, openaiModelsProbe, trimSlash } from "./openai_compatible.ts";
import { readOllamaUsage } from "../keys/usage_poll.ts";

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
    usage: { url: `${base}/api/usage`, read: readOllamaUsage },
  };
}
