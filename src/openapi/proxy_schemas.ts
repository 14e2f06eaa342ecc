/**
 * Component schemas of the proxied APIs: the parts of each wire format the pool relies on, named
 * so the proxy operations (proxy.ts) can refer to them.
 * @module
 */
import { obj, ref, type Schema, t } from "./types.ts";

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
