/**
 * Proxy operations, generated from each provider's endpoints, so a provider added with
 * `openaiCompatible({prefix})` is documented without anyone writing a line. Bodies are
 * forwarded untouched, so request schemas name what the pool reads and stay open otherwise.
 * @module
 */
import type { Endpoint, Provider } from "../providers/types.ts";
import { json, ref, type ResponseDoc, type RouteDoc, type Schema } from "./types.ts";

export { PROXY_SCHEMAS } from "./proxy_schemas.ts";

const SSE: Record<string, { schema: Schema }> = {
  "text/event-stream": {
    schema: {
      type: "string",
      description: "`data: {chunk}` events, ending with `data: [DONE]`; usage in the last chunk.",
    },
  },
};
const NDJSON = { "application/x-ndjson": { schema: ref("OllamaChunk") } };
const RESPONSE_EVENTS: Record<string, { schema: Schema }> = {
  "text/event-stream": {
    schema: {
      type: "string",
      description:
        "Named events `response.created` … `response.output_text.delta` … `response.completed` (with usage); a stream that breaks ends with `event: error`.",
    },
  },
};
const MESSAGE_EVENTS: Record<string, { schema: Schema }> = {
  "text/event-stream": {
    schema: {
      type: "string",
      description:
        "Named events `message_start` (input usage), `content_block_*`, `message_delta` (output usage), `message_stop`; a stream that breaks ends with `event: error`.",
    },
  },
};

interface Shape {
  summary: string;
  request?: string;
  response: string;
  /** Media types the answer may stream as, beyond JSON. */
  streams?: Record<string, { schema: Schema }>;
  example?: unknown;
  /** Errors come in Anthropic's shape rather than OpenAI's. */
  anthropic?: boolean;
}

const chatExample = { model: "llama3.2", messages: [{ role: "user", content: "Hello" }], stream: false };

const messageExample = { model: "llama3.2", max_tokens: 256, messages: [{ role: "user", content: "Hello" }] };

/** What each known endpoint takes and answers, by the tail of its path. */
const SHAPES: Record<string, Shape> = {
  "/chat/completions": {
    summary: "Chat completion",
    request: "ChatCompletionRequest",
    response: "ChatCompletion",
    streams: SSE,
    example: chatExample,
  },
  "/completions": {
    summary: "Text completion (legacy)",
    request: "CompletionRequest",
    response: "Completion",
    streams: SSE,
    example: { model: "llama3.2", prompt: "Say hi" },
  },
  "/embeddings": {
    summary: "Embeddings",
    request: "EmbeddingRequest",
    response: "EmbeddingList",
    example: { model: "nomic-embed-text", input: "hello" },
  },
  "/models": { summary: "List models", response: "ModelList" },
  "/responses": {
    summary: "Response (OpenAI Responses)",
    request: "ResponseRequest",
    response: "Response",
    streams: RESPONSE_EVENTS,
    example: { model: "llama3.2", input: "Hello" },
  },
  "/messages": {
    summary: "Message (Anthropic Messages)",
    request: "AnthropicMessageRequest",
    response: "AnthropicMessage",
    streams: MESSAGE_EVENTS,
    example: messageExample,
    anthropic: true,
  },
  "/messages/count_tokens": {
    summary: "Count tokens (Anthropic Messages)",
    request: "AnthropicCountTokensRequest",
    response: "AnthropicTokenCount",
    example: { model: "llama3.2", messages: messageExample.messages },
    anthropic: true,
  },
  "/api/chat": {
    summary: "Chat (Ollama native)",
    request: "OllamaChatRequest",
    response: "OllamaChunk",
    streams: NDJSON,
    example: chatExample,
  },
  "/api/generate": {
    summary: "Generate (Ollama native)",
    request: "OllamaGenerateRequest",
    response: "OllamaChunk",
    streams: NDJSON,
    example: { model: "llama3.2", prompt: "Why is the sky blue?", stream: false },
  },
  "/api/embed": {
    summary: "Embeddings (Ollama native)",
    request: "OllamaEmbedRequest",
    response: "OllamaEmbed",
    example: { model: "nomic-embed-text", input: ["hello"] },
  },
  "/api/embeddings": {
    summary: "Embedding, legacy (Ollama native)",
    request: "OllamaEmbeddingsRequest",
    response: "OllamaEmbeddings",
    example: { model: "nomic-embed-text", prompt: "hello" },
  },
  "/api/show": {
    summary: "Model details (Ollama native)",
    request: "OllamaShowRequest",
    response: "ObjectAny",
    example: { model: "llama3.2" },
  },
  "/api/tags": { summary: "List models (Ollama native)", response: "OllamaTags" },
  "/api/version": {
    summary: "Server version (Ollama native; Open WebUI's connection check)",
    response: "OllamaVersion",
  },
  "/api/ps": { summary: "Running models (Ollama native)", response: "OllamaRunning" },
};
const TAILS = Object.keys(SHAPES).sort((a, b) => b.length - a.length);

/** The shape of an endpoint; a custom one the table does not know gets an open passthrough. */
function shapeOf(e: Endpoint): Shape {
  const tail = TAILS.find((k) => e.path.endsWith(k));
  return tail ? SHAPES[tail] : {
    summary: "Proxied to the upstream as is",
    request: e.method === "POST" ? "ObjectAny" : undefined,
    response: "ObjectAny",
  };
}

const slug = (s: string): string => s.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_|_$/g, "");

/** The shared error statuses of a proxy route, in Anthropic's shape. */
function anthropicErrors(method: string): Record<string, ResponseDoc> {
  const statuses = method === "POST" ? [400, 401, 403, 413, 429, 503] : [401, 429, 503];
  return Object.fromEntries(
    statuses.map((
      s,
    ) => [String(s), { description: `Error (${s}), in Anthropic's shape.`, content: json(ref("AnthropicError")) }]),
  );
}

/** One operation per endpoint of every provider, tagged with the provider's id. */
export function proxyDocs(providers: Provider[]): RouteDoc[] {
  return providers.flatMap((p) =>
    p.endpoints.map((e): RouteDoc => {
      const s = shapeOf(e);
      const ok: ResponseDoc = {
        description: s.streams
          ? "The upstream's answer, streamed when the request asks for it. `X-Cache: HIT|MISS` when the cache is on."
          : "The upstream's answer.",
        content: { ...json(ref(s.response)), ...s.streams },
      };
      return {
        method: e.method,
        path: e.path,
        operationId: `${slug(p.id)}_${e.method.toLowerCase()}_${slug(e.path)}`,
        tag: `Proxy: ${p.id}`,
        summary: s.summary,
        // The upstream's address stays out: the document is public, and a base URL can name a
        // private host or gateway.
        description:
          `Forwarded to the \`${p.id}\` provider's upstream with a pooled key; on a key failure the next key is tried. ` +
          "Upstream client errors (400, 404, 422) are returned as the upstream sent them." +
          (s.anthropic
            ? " Clients may authenticate with `x-api-key` (as Anthropic's SDK does) or `Authorization: Bearer`; `anthropic-version` and `anthropic-beta` are forwarded."
            : ""),
        auth: "client",
        body: s.request ? { content: json(ref(s.request), s.example) } : undefined,
        responses: { "200": ok, ...(s.anthropic ? anthropicErrors(e.method) : {}) },
        errors: e.method === "POST" ? [403, 429, 503] : [429, 503],
      };
    })
  );
}
