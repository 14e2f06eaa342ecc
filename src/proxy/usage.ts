/**
 * Token usage as the pool counts it, and the rule every wire format reads it by: a count is a
 * non-negative integer below {@link MAX_USAGE_VALUE}; anything else an upstream sends (`1e300`,
 * `-5`, `"12"`, `2.5`) is ignored and counted as rejected, so one bad answer cannot corrupt the
 * totals or a token quota. The wire formats (src/wire/) say where the counts are.
 * @module
 */
import type { Usage } from "../types.ts";
import type { WireFormat } from "../wire/types.ts";

export type { Usage } from "../types.ts";

/** Upper bound (exclusive) of one usage value: far above any real answer, far below float trouble. */
export const MAX_USAGE_VALUE = 1e9;

/** A sane token count, or undefined. */
export function saneCount(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v < MAX_USAGE_VALUE ? v : undefined;
}

/**
 * Usage from the values an answer reported (undefined when it reported neither). A value that is
 * there but not sane counts as 0 and as one rejected value; several prompt parts are summed.
 */
export function usageFrom(prompt: unknown | unknown[], completion: unknown): Usage | undefined {
  const parts = Array.isArray(prompt) ? prompt : [prompt];
  if (parts.every((p) => p === undefined) && completion === undefined) return undefined;
  let rejected = 0;
  const read = (v: unknown): number => {
    if (v === undefined || v === null) return 0;
    const n = saneCount(v);
    if (n === undefined) rejected++;
    return n ?? 0;
  };
  let promptTokens = 0;
  for (const p of parts) promptTokens += read(p);
  const usage: Usage = { promptTokens, completionTokens: read(completion) };
  if (rejected) usage.rejected = rejected;
  return usage;
}

/** A JSON number token right after `"name":`, as written (so `1e300` is read whole, not as 1). */
const NUMBER_AFTER_COLON = /^\s*:\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/;

/**
 * The number after the last `"name":` in `text`, or undefined when the name is not there. Only a
 * short window after the name is looked at: answers can be large (embeddings) and the usage
 * fields are few and near the end, so nothing else is parsed.
 */
export function lastNumber(text: string, name: string): number | undefined {
  const at = text.lastIndexOf(`"${name}"`);
  if (at < 0) return undefined;
  const window = text.slice(at + name.length + 2, at + name.length + 48);
  const m = NUMBER_AFTER_COLON.exec(window);
  if (m) return Number(m[1]);
  return /^\s*:\s*null/.test(window) ? undefined : Number.NaN; // NaN: there but not a number, rejected
}

/**
 * The charge for a request whose client left before the upstream reported usage: the prompt at
 * 4 characters of the request body per token, and one completion token per streamed event (the
 * format says how many line breaks end one: 2 for `data:` SSE, 3 for SSE with `event:` lines, 1
 * for NDJSON; Ollama and OpenAI-compatible servers send about one token per event). An estimate,
 * counted as such in statistics.
 */
export function estimateUsage(format: WireFormat, requestBody: string | undefined, lines: number): Usage {
  const perEvent = format.eventLines ?? (format.framing === "sse" ? 2 : 1);
  return {
    promptTokens: Math.ceil((requestBody?.length ?? 0) / 4),
    completionTokens: Math.floor(lines / perEvent),
  };
}
