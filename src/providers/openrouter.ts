/** The OpenRouter preset: OpenAI routes under `/openrouter/v1`. @module */
import type { Provider } from "./types.ts";
import { openaiCompatible, trimSlash } from "./openai_compatible.ts";

/** Options of {@link openrouter}. */
export interface OpenRouterOptions {
  /**
   * Upstream root (not including `/v1`).
   * @default "https://openrouter.ai/api"
   */
  baseURL?: string;
  /** Sent as `HTTP-Referer` (OpenRouter's app attribution). */
  appUrl?: string;
  /** Sent as `X-Title`. */
  appTitle?: string;
}

/**
 * OpenRouter.
 * @example
 * createPool({ providers: [ollama(), openrouter({ appTitle: "My app" })] });
 */
export function openrouter(options: OpenRouterOptions = {}): Provider {
  const headers: Record<string, string> = {};
  if (options.appUrl) headers["HTTP-Referer"] = options.appUrl;
  if (options.appTitle) headers["X-Title"] = options.appTitle;
  return openaiCompatible({
    id: "openrouter",
    baseURL: `${trimSlash(options.baseURL ?? "https://openrouter.ai/api")}/v1`,
    prefix: "/openrouter/v1",
    headers,
  });
}
