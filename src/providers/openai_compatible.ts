/**
 * The one builder for OpenAI-compatible providers; presets are thin wrappers over it.
 * @module
 */
import type { Endpoint, ProbeSpec, Provider } from "./types.ts";

/** Options of {@link openaiCompatible}. */
export interface OpenAICompatibleOptions {
  /** Provider id: lowercase letters, digits, `-` and `_`. */
  id: string;
  /** The upstream's OpenAI base URL, as the `openai` SDK takes it, e.g. `https://api.groq.com/openai/v1`. */
  baseURL: string;
  /** Where the pool serves it, e.g. `/groq/v1`. */
  prefix: string;
  /** Static headers for every upstream request. */
  headers?: Record<string, string>;
}

/** The OpenAI routes every compatible provider gets under its prefix. */
export function openaiEndpoints(prefix: string, base: string): Endpoint[] {
  const p = trimSlash(prefix);
  const b = trimSlash(base);
  return [
    { method: "POST", path: `${p}/chat/completions`, upstream: `${b}/chat/completions`, format: "openai", chat: true },
    { method: "POST", path: `${p}/completions`, upstream: `${b}/completions`, format: "openai" },
    { method: "POST", path: `${p}/embeddings`, upstream: `${b}/embeddings`, format: "openai" },
    { method: "GET", path: `${p}/models`, upstream: `${b}/models`, format: "openai" },
  ];
}

/** Probes a key with the OpenAI model list (needs the key; costs no tokens). */
export function openaiModelsProbe(base: string): ProbeSpec {
  return {
    method: "GET",
    url: `${trimSlash(base)}/models`,
    models: (json) => {
      const data = (json as { data?: Array<{ id?: unknown }> } | null)?.data;
      return Array.isArray(data) ? data.map((m) => m?.id).filter((id): id is string => typeof id === "string") : [];
    },
  };
}

/** Sets `Authorization: Bearer <secret>`. */
export function bearer(headers: Headers, secret: string): void {
  headers.set("authorization", `Bearer ${secret}`);
}

/**
 * Any OpenAI-compatible upstream.
 * @example
 * const groq = openaiCompatible({ id: "groq", baseURL: "https://api.groq.com/openai/v1", prefix: "/groq/v1" });
 */
export function openaiCompatible(options: OpenAICompatibleOptions): Provider {
  return {
    id: options.id,
    baseURL: trimSlash(options.baseURL),
    endpoints: openaiEndpoints(options.prefix, options.baseURL),
    authorize: bearer,
    headers: options.headers,
    probe: openaiModelsProbe(options.baseURL),
  };
}

/** Removes trailing slashes. */
export function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
