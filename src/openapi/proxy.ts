/**
 * Proxy operations, generated from each provider's endpoints, so a provider added with
 * `openaiCompatible({prefix})` is documented without anyone writing a line. Bodies are
 * forwarded untouched, so request schemas name what the pool reads and stay open otherwise.
 * @module
 */
import type { Endpoint, Provider } from "../providers/types.ts";
import { json, obj, ref, type ResponseDoc, type RouteDoc, type Schema, t } from "./types.ts";

const message = obj(
  { role: t.enumOf(["system", "user", "assistant", "tool", "developer"]), content: {} },
  ["content"],
  { additionalProperties: true },
);
const usage = obj(
  { prompt_tokens: t.int(), completion_tokens: t.int(), total_tokens: t.int() },
  ["completion_tokens"],
  { additionalProperties: true },
);
const stream = t.bool("Stream the answer as server-sent events.");

/** Component schemas of the proxied APIs (the parts the pool relies on). */
export const PROXY_SCHEMAS: Record<string, Schema> = {
  ChatMessage: message,
  ChatCompletionRequest: obj({ model: t.str(), messages: t.arr(ref("ChatMessage")), stream }, ["stream"], {
    additionalProperties: true,
  }),
  ChatCompletion: obj(
    {
      id: t.str(),
      object: { const: "chat.completion" },
      created: t.int(),
      model: t.str(),
      choices: t.arr(
        obj({ index: t.int(), message: ref("ChatMessage"), finish_reason: t.nullable("string") }, ["finish_reason"], {
          additionalProperties: true,
        }),
      ),
      usage,
    },
    ["id", "created", "usage"],
    { additionalProperties: true },
  ),
  CompletionRequest: obj({ model: t.str(), prompt: {}, stream }, ["stream"], { additionalProperties: true }),
  Completion: obj(
    { object: { const: "text_completion" }, model: t.str(), choices: t.arr(t.open()), usage },
    ["usage"],
    { additionalProperties: true },
  ),
  EmbeddingRequest: obj({ model: t.str(), input: { anyOf: [t.str(), t.arr(t.str())] } }, [], {
    additionalProperties: true,
  }),
  EmbeddingList: obj(
    {
      object: { const: "list" },
      data: t.arr(obj({ index: t.int(), embedding: t.arr(t.num()) }, [], { additionalProperties: true })),
      model: t.str(),
    },
    ["model"],
    { additionalProperties: true },
  ),
  ModelList: obj({
    object: { const: "list" },
    data: t.arr(
      obj({ id: t.str(), object: t.str(), created: t.int(), owned_by: t.str() }, ["object", "created", "owned_by"], {
        additionalProperties: true,
      }),
    ),
  }),
  OllamaChatRequest: obj(
    {
      model: t.str(),
      messages: t.arr(ref("ChatMessage")),
      stream: t.bool("Stream NDJSON lines; Ollama's default is true."),
    },
    ["stream"],
    { additionalProperties: true },
  ),
  OllamaGenerateRequest: obj(
    { model: t.str(), prompt: t.str(), stream: t.bool("Stream NDJSON lines; Ollama's default is true.") },
    ["stream"],
    { additionalProperties: true },
  ),
  OllamaChunk: obj(
    {
      model: t.str(),
      created_at: t.str(),
      done: t.bool(),
      message: ref("ChatMessage"),
      response: t.str(),
      prompt_eval_count: t.int(),
      eval_count: t.int(),
    },
    ["created_at", "message", "response", "prompt_eval_count", "eval_count"],
    {
      additionalProperties: true,
      description:
        "One NDJSON line, or the whole answer with `stream: false`; the last line has `done: true` and the counts.",
    },
  ),
  OllamaEmbedRequest: obj({ model: t.str(), input: { anyOf: [t.str(), t.arr(t.str())] } }, [], {
    additionalProperties: true,
  }),
  OllamaEmbed: obj({ model: t.str(), embeddings: t.arr(t.arr(t.num())) }, ["model"], { additionalProperties: true }),
  OllamaEmbeddingsRequest: obj({ model: t.str(), prompt: t.str() }, [], { additionalProperties: true }),
  OllamaEmbeddings: obj({ embedding: t.arr(t.num()) }, [], { additionalProperties: true }),
  OllamaShowRequest: obj({ model: t.str() }, [], { additionalProperties: true }),
  OllamaTags: obj(
    { models: t.arr(obj({ name: t.str(), model: t.str() }, ["model"], { additionalProperties: true })) },
    [],
    { additionalProperties: true },
  ),
  OllamaVersion: obj({ version: t.str() }, [], { additionalProperties: true }),
  OllamaRunning: obj({ models: t.arr(t.open()) }, [], { additionalProperties: true }),
  ResponseRequest: obj(
    {
      model: t.str(),
      input: { description: "A string or a list of input items." },
      stream: t.bool("Stream named server-sent events; usage comes with `response.completed`."),
    },
    ["stream"],
    { additionalProperties: true },
  ),
  Response: obj(
    {
      id: t.str(),
      object: { const: "response" },
      status: t.str(),
      model: t.str(),
      output: t.arr(t.open()),
      usage: obj({ input_tokens: t.int(), output_tokens: t.int(), total_tokens: t.int() }, ["total_tokens"], {
        additionalProperties: true,
      }),
    },
    ["status", "model"],
    { additionalProperties: true },
  ),
  AnthropicMessageRequest: obj(
    {
      model: t.str(),
      max_tokens: t.int(),
      messages: t.arr(t.open()),
      stream: t.bool("Stream Anthropic's named server-sent events."),
    },
    ["max_tokens", "stream"],
    { additionalProperties: true },
  ),
  AnthropicMessage: obj(
    {
      id: t.str(),
      type: { const: "message" },
      role: { const: "assistant" },
      content: t.arr(t.open()),
      model: t.str(),
      stop_reason: t.nullable("string"),
      usage: obj({ input_tokens: t.int(), output_tokens: t.int() }, [], { additionalProperties: true }),
    },
    ["id", "stop_reason"],
    { additionalProperties: true },
  ),
  AnthropicCountTokensRequest: obj({ model: t.str(), messages: t.arr(t.open()) }, [], { additionalProperties: true }),
  AnthropicTokenCount: obj({ input_tokens: t.int() }, [], { additionalProperties: true }),
  AnthropicError: obj(
    {
      type: { const: "error" },
      error: obj({
        type: t.enumOf([
          "invalid_request_error",
          "authentication_error",
          "permission_error",
          "not_found_error",
          "request_too_large",
          "rate_limit_error",
          "api_error",
          "overloaded_error",
        ]),
        message: t.str(),
      }),
      request_id: t.str("The request's id, as in `x-request-id` and the request log."),
    },
    ["request_id"],
    { description: "Anthropic's error shape, which every error on the Messages routes has." },
  ),
};

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
