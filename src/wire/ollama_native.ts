/**
 * Ollama's native API (`/api/chat`, `/api/generate`, `/api/embed` ...): NDJSON streams (the
 * default unless `stream: false`), counts in `prompt_eval_count` and `eval_count` of the final
 * line or the whole answer, errors as `{"error": "message"}` lines.
 * @module
 */
import { lastNumber, type Usage, usageFrom } from "../proxy/usage.ts";
import { openaiErrorResponse } from "./openai_chat.ts";
import type { WireFormat } from "./types.ts";

export const ollamaNative: WireFormat = {
  id: "ollama_native",
  framing: "ndjson",
  inspect: (body) => ({ stream: body.stream !== false, rewritten: false }),
  usageOfText(text): Usage | undefined {
    return usageFrom(lastNumber(text, "prompt_eval_count"), lastNumber(text, "eval_count"));
  },
  usageMarker: '"eval_count"',
  usageOfEvent(event, before) {
    if (typeof event !== "object" || event === null) return before;
    const o = event as Record<string, unknown>;
    return usageFrom(o.prompt_eval_count, o.eval_count) ?? before;
  },
  // ollama-js and Open WebUI read `error` as text or object alike; the pool's errors keep one shape.
  errorResponse: openaiErrorResponse,
  streamError: (message) => `${JSON.stringify({ error: message })}\n`,
};
