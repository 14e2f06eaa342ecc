/**
 * Anthropic Messages (`/v1/messages`, `/v1/messages/count_tokens`): a JSON `message` with
 * `usage.input_tokens`/`output_tokens` (cached input counted apart, in
 * `cache_creation_input_tokens` and `cache_read_input_tokens`), or an SSE stream of named events
 * where `message_start` reports the input and `message_delta` the (cumulative) output. Errors are
 * `{"type":"error","error":{"type":"rate_limit_error",…,"message"}}`; in a stream, `event: error`.
 * @module
 */
import type { PoolError } from "../errors.ts";
import { lastNumber, type Usage, usageFrom } from "../proxy/usage.ts";
import type { WireFormat } from "./types.ts";

/** Anthropic's error `type` by HTTP status (its documented table; other 4xx are invalid requests). */
function errorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 413) return "request_too_large";
  if (status === 429) return "rate_limit_error";
  if (status === 503 || status === 529) return "overloaded_error";
  return status >= 500 ? "api_error" : "invalid_request_error";
}

/** Anthropic's error body for a status and message. */
export function anthropicError(
  status: number,
  message: string,
): { type: "error"; error: { type: string; message: string } } {
  return { type: "error", error: { type: errorType(status), message } };
}

const INPUT_PARTS = ["input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"] as const;

/** Input and output of one `usage` object; input undefined when the object has none of its parts. */
function fromUsageObject(u: Record<string, unknown>, before: Usage | undefined): Usage | undefined {
  const hasInput = INPUT_PARTS.some((k) => u[k] !== undefined && u[k] !== null);
  const read = usageFrom(hasInput ? INPUT_PARTS.map((k) => u[k]) : undefined, u.output_tokens);
  if (!read) return before;
  const rejected = (read.rejected ?? 0) + (before?.rejected ?? 0);
  const merged: Usage = {
    promptTokens: hasInput ? read.promptTokens : before?.promptTokens ?? 0,
    completionTokens: u.output_tokens === undefined || u.output_tokens === null
      ? before?.completionTokens ?? 0
      : read.completionTokens,
  };
  if (rejected) merged.rejected = rejected;
  return merged;
}

function errorResponse(error: PoolError): Response {
  // Anthropic's own errors carry the request's id at the top level; so do the pool's.
  const body = {
    ...anthropicError(error.status, error.message),
    ...(error.requestId ? { request_id: error.requestId } : {}),
  };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { "content-type": "application/json; charset=utf-8", ...error.headers },
  });
}

export const anthropicMessages: WireFormat = {
  id: "anthropic_messages",
  framing: "sse",
  eventLines: 3, // `event:`, `data:`, blank
  inspect: (body) => ({ stream: body.stream === true, rewritten: false }),
  usageOfText(text): Usage | undefined {
    if (text.lastIndexOf('"usage"') < 0) return undefined;
    return usageFrom(INPUT_PARTS.map((k) => lastNumber(text, k)), lastNumber(text, "output_tokens"));
  },
  usageMarker: '"usage"',
  usageOfEvent(event, before) {
    const e = event as { type?: unknown; message?: { usage?: unknown }; usage?: unknown } | null;
    const u = e?.type === "message_start" ? e.message?.usage : e?.type === "message_delta" ? e.usage : undefined;
    if (typeof u !== "object" || u === null) return before;
    return fromUsageObject(u as Record<string, unknown>, before);
  },
  errorResponse,
  streamError(message) {
    return `event: error\ndata: ${JSON.stringify(anthropicError(500, message))}\n\n`;
  },
};

/** `count_tokens` answers `{"input_tokens": n}`: a count, not tokens spent, so no usage is read. */
export const anthropicCountTokens: WireFormat = {
  ...anthropicMessages,
  id: "anthropic_count_tokens",
  inspect: () => ({ stream: false, rewritten: false }),
  usageOfText: () => undefined,
  usageMarker: undefined,
  usageOfEvent: (_event, before) => before,
};
