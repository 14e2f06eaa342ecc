/** Token usage as upstreams report it: OpenAI `usage`, Ollama `prompt_eval_count`/`eval_count`. @module */
import type { WireFormat } from "../providers/types.ts";

/** Tokens one request consumed. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);

/** Usage from a parsed response body or stream chunk, or undefined when it has none. */
export function usageOf(format: WireFormat, body: unknown): Usage | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const o = body as Record<string, unknown>;
  if (format === "openai") {
    const u = o.usage as Record<string, unknown> | undefined | null;
    if (typeof u !== "object" || u === null) return undefined;
    return { promptTokens: num(u.prompt_tokens), completionTokens: num(u.completion_tokens) };
  }
  if (o.prompt_eval_count === undefined && o.eval_count === undefined) return undefined;
  return { promptTokens: num(o.prompt_eval_count), completionTokens: num(o.eval_count) };
}
