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

/** The value of the last `"name": <integer>` in `text`, or undefined. */
function lastInt(text: string, name: string): number | undefined {
  const at = text.lastIndexOf(`"${name}"`);
  if (at < 0) return undefined;
  const m = /^\s*:\s*(\d+)/.exec(text.slice(at + name.length + 2, at + name.length + 40));
  return m ? Number(m[1]) : undefined;
}

/**
 * Usage from a whole response body without parsing all of it: bodies can be large (embeddings),
 * and the usage fields are few and near the end.
 */
export function usageOfText(format: WireFormat, text: string): Usage | undefined {
  if (format === "openai") {
    if (text.lastIndexOf('"usage"') < 0) return undefined;
    const prompt = lastInt(text, "prompt_tokens");
    const completion = lastInt(text, "completion_tokens");
    if (prompt === undefined && completion === undefined) return undefined;
    return { promptTokens: prompt ?? 0, completionTokens: completion ?? 0 };
  }
  const prompt = lastInt(text, "prompt_eval_count");
  const completion = lastInt(text, "eval_count");
  if (prompt === undefined && completion === undefined) return undefined;
  return { promptTokens: prompt ?? 0, completionTokens: completion ?? 0 };
}

/**
 * The charge for a request whose client left before the upstream reported usage: the prompt at
 * 4 characters of the request body per token, and one completion token per streamed event (an
 * SSE event ends with two line breaks, an NDJSON line with one; Ollama and OpenAI-compatible
 * servers send about one token per event). An estimate, counted as such in statistics.
 */
export function estimateUsage(format: WireFormat, requestBody: string | undefined, lines: number): Usage {
  return {
    promptTokens: Math.ceil((requestBody?.length ?? 0) / 4),
    completionTokens: format === "openai" ? Math.floor(lines / 2) : lines,
  };
}
