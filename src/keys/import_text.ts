/**
 * Imports an ollama.txt as it arrives: lines are read from the body's chunks, parsed, and stored
 * a step of keys at a time, so a 100,000-line import holds one network chunk, one partial line
 * and one step of keys besides the pool itself — never the whole body, its lines or its keys.
 * Every route and command that imports an ollama.txt goes through here.
 * @module
 */
import { PoolError } from "../errors.ts";
import { type InvalidEntry, isInvalid, type ParsedKey, parseKeyLine } from "./parse.ts";
import type { KeyRegistry } from "./registry.ts";
import { linesOfText, LineSplitter, type TextLine } from "./text_lines.ts";

/**
 * Keys parsed before they are stored, as one write: what an import holds at a time besides the
 * pool (2,000 keys: ~0.5 MB), and how often its progress shows.
 */
export const IMPORT_STEP = 2000;

/** What an import did, as the import routes answer it. */
export interface TextImportResult {
  /** Lines that were neither blank nor a comment. */
  total: number;
  added: number;
  existing: number;
  /** Lines that are not a key, with why; bounded by the body limit (a line is ≥ 2 bytes). */
  invalid: InvalidEntry[];
}

/** The text of an import: in memory, or bytes as they arrive (a request body, a file stream). */
export type TextSource = string | AsyncIterable<Uint8Array>;

/**
 * The bytes of a request body as they arrive, at most `limit` of them: a body that declares more
 * is refused before anything is read; one that sends more than it declared, or declares nothing
 * and goes on past the limit, ends the import there with the same 413 (what was stored by then
 * stays, as with an import cut off by a lost connection).
 */
export async function* requestBytes(req: Request, limit: number): AsyncGenerator<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (declared > limit) throw tooLarge(limit);
  if (!req.body) return;
  const reader = req.body.getReader();
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      size += value.byteLength;
      if (size > limit) throw tooLarge(limit);
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

function tooLarge(limit: number): PoolError {
  return new PoolError(413, "body_too_large", `request body exceeds the limit of ${limit} bytes`);
}

/** Lines of the source, in batches (a chunk's worth at a time when it streams). */
async function* lineBatches(source: TextSource): AsyncGenerator<Iterable<TextLine>> {
  if (typeof source === "string") {
    yield linesOfText(source);
    return;
  }
  const splitter = new LineSplitter();
  for await (const chunk of source) yield splitter.push(chunk);
  yield splitter.end();
}

/**
 * Reads ollama.txt lines from `source` into `provider`'s pool. Duplicates (also within the
 * input) count as existing, malformed lines are reported with their number, never fatal; each
 * step of keys is stored (and serves) before the next is read, so a failure or a crash midway
 * keeps every step stored before it.
 */
export async function importKeyText(
  keys: KeyRegistry,
  provider: string,
  source: TextSource,
): Promise<TextImportResult> {
  const importer = keys.importer(provider);
  const invalid: InvalidEntry[] = [];
  let total = 0;
  let lineNo = 0;
  let step: ParsedKey[] = [];
  const store = async (): Promise<void> => {
    const keysOfStep = step;
    step = []; // the step's keys are garbage once stored: nothing keeps a list of them
    await importer.add(keysOfStep);
  };
  try {
    for await (const batch of lineBatches(source)) {
      for (const line of batch) {
        lineNo++;
        const parsed = typeof line === "string" ? parseKeyLine(line, lineNo) : { line: lineNo, reason: line.problem };
        if (!parsed) continue;
        total++;
        if (isInvalid(parsed)) invalid.push(parsed);
        else if (step.push(parsed) >= IMPORT_STEP) await store();
      }
    }
    if (step.length) await store();
  } catch (err) {
    // Other instances still learn of the steps stored before the failure (reported, not this).
    await importer.finish().catch(() => {});
    throw err;
  }
  await importer.finish();
  return { total, added: importer.added, existing: importer.existing, invalid };
}
