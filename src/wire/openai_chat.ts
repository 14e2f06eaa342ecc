/**
 * OpenAI Chat Completions and its siblings (legacy completions, embeddings, models): JSON answers
 * with `usage.prompt_tokens`/`completion_tokens`, SSE streams of `data: {chunk}` ending with
 * `data: [DONE]`. On chat streams the pool asks for `stream_options.include_usage` so every
 * stream is counted, and drops the usage-only chunk again when the client did not ask for it.
 * @module
 */
import { badRequest, type PoolError } from "../errors.ts";
import { lastNumber, type Usage, usageFrom } from "../proxy/usage.ts";
import type { Inspection, WireFormat } from "./types.ts";

function usageOfText(text: string): Usage | undefined {
  if (text.lastIndexOf('"usage"') < 0) return undefined;
  return usageFrom(lastNumber(text, "prompt_tokens"), lastNumber(text, "completion_tokens"));
}

function usageOfEvent(event: unknown, before: Usage | undefined): Usage | undefined {
  const u = (event as { usage?: unknown } | null)?.usage;
  if (typeof u !== "object" || u === null) return before;
  const o = u as Record<string, unknown>;
  return usageFrom(o.prompt_tokens, o.completion_tokens) ?? before;
}

/** The pool's error as OpenAI's `{"error": {"message", "type", "code"}}` (PoolError's own shape). */
export function openaiErrorResponse(error: PoolError): Response {
  return error.toResponse();
}

const plain = (body: Record<string, unknown>): Inspection => ({ stream: body.stream === true, rewritten: false });

/** Completions, embeddings, models: OpenAI's shapes, no rewriting. */
export const openaiApi: WireFormat = {
  id: "openai",
  framing: "sse",
  inspect: plain,
  usageOfText,
  usageMarker: '"usage"',
  usageOfEvent,
  errorResponse: openaiErrorResponse,
  streamError(message) {
    return `data: ${JSON.stringify({ error: { message, type: "upstream_error", code: "stream_interrupted" } })}\n\n`;
  },
};

/** Chat completions: as {@link openaiApi}, plus the usage request on streams. */
export const openaiChat: WireFormat = {
  ...openaiApi,
  id: "openai_chat",
  inspect(body) {
    const stream = body.stream === true;
    if (!stream) return { stream, rewritten: false };
    const so = body.stream_options;
    if (so !== undefined && (typeof so !== "object" || so === null)) {
      throw badRequest("'stream_options' must be an object", "invalid_stream_options");
    }
    if ((so as Record<string, unknown> | undefined)?.include_usage === true) return { stream, rewritten: false };
    body.stream_options = { ...(so as object | undefined), include_usage: true };
    return { stream, rewritten: true };
  },
  isUsageOnly(event) {
    const choices = (event as { choices?: unknown } | null)?.choices;
    return Array.isArray(choices) && choices.length === 0;
  },
};
