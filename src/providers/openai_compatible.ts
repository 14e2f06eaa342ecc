/**
 * The one builder for OpenAI-compatible providers; presets are thin wrappers over it.
 * @module
 */
import { anthropicCountTokens, anthropicMessages } from "../wire/anthropic_messages.ts";
import { openaiApi, openaiChat } from "../wire/openai_chat.ts";
import { openaiResponses } from "../wire/openai_responses.ts";
import type { Endpoint, ProbeSpec, Provider, Surface } from "./types.ts";

/** The surfaces an OpenAI-style base URL can serve (Ollama's native API lives elsewhere). */
export type OpenAISurface = Exclude<Surface, "native">;

/** What `openaiCompatible` serves unless told otherwise: the routes every such upstream has. */
export const DEFAULT_OPENAI_SURFACES: OpenAISurface[] = ["chat", "completions", "embeddings", "models"];

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
  /**
   * The client APIs the upstream serves under its base URL; `responses` and `messages` only if
   * it speaks OpenAI Responses or Anthropic Messages itself (the pool does not translate).
   * @default ["chat", "completions", "embeddings", "models"]
   */
  surfaces?: OpenAISurface[];
}

/** The routes of each surface, by path under the prefix (and the upstream base). */
const ROUTES: Record<OpenAISurface, Array<Omit<Endpoint, "upstream">>> = {
  chat: [{ method: "POST", path: "/chat/completions", format: openaiChat }],
  completions: [{ method: "POST", path: "/completions", format: openaiApi }],
  embeddings: [{ method: "POST", path: "/embeddings", format: openaiApi }],
  models: [{ method: "GET", path: "/models", format: openaiApi }],
  responses: [{ method: "POST", path: "/responses", format: openaiResponses }],
  messages: [
    { method: "POST", path: "/messages", format: anthropicMessages },
    { method: "POST", path: "/messages/count_tokens", format: anthropicCountTokens },
  ],
};

/** The routes of `surfaces` under `prefix`, each forwarded to the same path under `base`. */
export function openaiEndpoints(
  prefix: string,
  base: string,
  surfaces: readonly Surface[] = DEFAULT_OPENAI_SURFACES,
): Endpoint[] {
  const p = trimSlash(prefix);
  const b = trimSlash(base);
  return surfaces.flatMap((s) =>
    s === "native" ? [] : ROUTES[s].map((r) => ({ ...r, path: p + r.path, upstream: b + r.path }))
  );
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
  const surfaces = options.surfaces ?? DEFAULT_OPENAI_SURFACES;
  return {
    id: options.id,
    baseURL: trimSlash(options.baseURL),
    endpoints: openaiEndpoints(options.prefix, options.baseURL, surfaces),
    surfaces: [...surfaces],
    authorize: bearer,
    headers: options.headers,
    probe: openaiModelsProbe(options.baseURL),
  };
}

/** Removes trailing slashes. */
export function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
