/**
 * OpenAI Responses (`/v1/responses`): a JSON `response` object with `usage.input_tokens` and
 * `output_tokens`, or an SSE stream of named events (`response.created`, `…output_text.delta`,
 * `response.completed`) where the final response, usage included, comes with
 * `response.completed` (or `response.incomplete` / `response.failed`). No `[DONE]` line, and
 * nothing to rewrite: every stream reports its usage. Errors in OpenAI's shape; a stream that
 * breaks ends with the dialect's `error` event.
 * @module
 */
import { lastNumber, type Usage, usageFrom } from "../proxy/usage.ts";
import { openaiErrorResponse } from "./openai_chat.ts";
import type { WireFormat } from "./types.ts";

export const openaiResponses: WireFormat = {
  id: "openai_responses",
  framing: "sse",
  eventLines: 3, // `event:`, `data:`, blank
  inspect: (body) => ({ stream: body.stream === true, rewritten: false }),
  usageOfText(text): Usage | undefined {
    if (text.lastIndexOf('"usage"') < 0) return undefined;
    return usageFrom(lastNumber(text, "input_tokens"), lastNumber(text, "output_tokens"));
  },
  // `response.created` and `response.in_progress` carry `"usage": null`; only the final events count.
  usageMarker: '"usage"',
  usageOfEvent(event, before) {
    const u = (event as { response?: { usage?: unknown } } | null)?.response?.usage;
    if (typeof u !== "object" || u === null) return before;
    const o = u as Record<string, unknown>;
    return usageFrom(o.input_tokens, o.output_tokens) ?? before;
  },
  errorResponse: openaiErrorResponse,
  streamError(message) {
    const event = { type: "error", code: "stream_interrupted", message, param: null, sequence_number: 0 };
    return `event: error\ndata: ${JSON.stringify(event)}\n\n`;
  },
};
