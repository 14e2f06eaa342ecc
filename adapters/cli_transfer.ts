/**
 * `ollama-api-pool export | import | migrate`: a pool's state (keys with their state, tokens,
 * users, statistics, settings) out of one store and into another, as NDJSON, streamed in batches
 * with progress on stderr.
 * @module
 */
import { open } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import type { Storage } from "unstorage";
import { counterSinkFor } from "../src/store/sinks.ts";
import { type ExportLine, exportLines, importLines, type ImportResult } from "../src/store/transfer.ts";
import { storageFrom } from "./storage_url.ts";

export const TRANSFER_COMMANDS = ["export", "import", "migrate"] as const;
export type TransferCommand = (typeof TRANSFER_COMMANDS)[number];

const HELP = `Usage:
  ollama-api-pool export  [--storage URL | --data-dir DIR] [--out FILE]   (stdout without --out)
  ollama-api-pool import  [--storage URL | --data-dir DIR] [--in FILE]    (stdin without --in)
  ollama-api-pool migrate --from URL --to URL

URLs as for the server: memory: | file:./path | redis://… | postgres://… (default: STORAGE_URL,
else file:<DATA_DIR or ./.data>). The export holds API keys and the admin credential's hash in
usable form: --out writes it readable by you alone (0600). Import overwrites records of the same
name and sets statistics to the exported values; stop the pools on the target store first.`;

const SECRETS_NOTE = "the export holds API keys in usable form: keep it private";

/** Longest line an import accepts; a record is a few hundred bytes, a user with history a few KB. */
const MAX_LINE = 1024 * 1024;

/** Progress on stderr, at most once a second, plus a last line. */
function reporter(verb: string): { progress(done: number, prefix: string): void; finish(what: string): void } {
  const started = Date.now();
  let last = started;
  return {
    progress(done, prefix) {
      if (Date.now() - last < 1000) return;
      last = Date.now();
      process.stderr.write(`${verb}: ${done.toLocaleString("en-US")} records (${prefix})\n`);
    },
    finish(what) {
      process.stderr.write(`${verb}: ${what} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    },
  };
}

/** Lines of a byte stream, each at most {@link MAX_LINE} bytes. */
async function* linesOf(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let rest = "";
  for await (const chunk of input) {
    rest += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, nl);
      rest = rest.slice(nl + 1);
    }
    if (rest.length > MAX_LINE) throw new Error(`a line of the import is longer than ${MAX_LINE} bytes: not an export`);
  }
  rest += decoder.decode();
  if (rest) yield rest;
}

async function* ndjson(lines: AsyncIterable<ExportLine>): AsyncGenerator<string> {
  for await (const line of lines) yield `${JSON.stringify(line)}\n`;
}

/** The driver's name for the export header; never the URL, which may carry a password. */
const sourceName = (storage: Storage): string => storage.getMount("").driver.name ?? "custom";

async function withStorage<T>(url: string | undefined, dataDir: string, work: (s: Storage) => Promise<T>): Promise<T> {
  const storage = await storageFrom(url, dataDir);
  try {
    return await work(storage);
  } finally {
    await storage.dispose().catch(() => {});
  }
}

async function runExport(url: string | undefined, dataDir: string, out: string | undefined): Promise<void> {
  const report = reporter("export");
  process.stderr.write(`export: ${SECRETS_NOTE}${out ? ` (${out} is written 0600)` : ""}\n`);
  await withStorage(url, dataDir, async (storage) => {
    let end: ExportLine | undefined;
    const lines = async function* () {
      for await (const line of exportLines(storage, counterSinkFor(storage), sourceName(storage), report.progress)) {
        if ("end" in line) end = line;
        yield line;
      }
    };
    if (out) {
      // Created 0600, and narrowed to 0600 if it already existed with a wider mode.
      const file = await open(out, "w", 0o600);
      await file.chmod(0o600);
      await pipeline(Readable.from(ndjson(lines())), file.createWriteStream());
    } else {
      await pipeline(Readable.from(ndjson(lines())), process.stdout, { end: false });
    }
    const e = end as { items: number; counters: number } | undefined;
    report.finish(`${e?.items ?? 0} records and ${e?.counters ?? 0} statistics records`);
  });
}

function summary(r: ImportResult): string {
  const aside = r.setAside
    ? `; ${r.setAside} unusable record(s) set aside under "quarantine:" (the pool's /health says "degraded" until they are removed)`
    : "";
  return `${r.items} records and ${r.counters} statistics records written${aside}`;
}

async function runImport(url: string | undefined, dataDir: string, input: string | undefined): Promise<void> {
  const report = reporter("import");
  await withStorage(url, dataDir, async (storage) => {
    const file = input ? await open(input, "r") : undefined;
    try {
      const source = file ? file.createReadStream() : process.stdin;
      const r = await importLines(storage, counterSinkFor(storage), linesOf(source), report.progress);
      report.finish(summary(r));
      if (!r.complete) {
        throw new Error(
          "the input ended before the export's end line: it was cut off; what it held is written, run the import again with a complete export",
        );
      }
    } finally {
      await file?.close();
    }
  });
}

async function runMigrate(from: string, to: string): Promise<void> {
  if (from === to) throw new Error("--from and --to name the same store");
  const report = reporter("migrate");
  await withStorage(from, "", (source) =>
    withStorage(to, "", async (target) => {
      const lines = async function* () {
        for await (const line of exportLines(source, counterSinkFor(source), sourceName(source))) {
          yield JSON.stringify(line);
        }
      };
      const r = await importLines(target, counterSinkFor(target), lines(), report.progress);
      report.finish(summary(r));
    }));
}

/** Runs one of the transfer commands with its own arguments. */
export async function runTransfer(command: TransferCommand, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      storage: { type: "string" },
      "data-dir": { type: "string" },
      out: { type: "string" },
      in: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const url = values.storage ?? process.env.STORAGE_URL;
  const dataDir = values["data-dir"] ?? process.env.DATA_DIR ?? "./.data";
  if (command === "export") return await runExport(url, dataDir, values.out);
  if (command === "import") return await runImport(url, dataDir, values.in);
  if (!values.from || !values.to) throw new Error("migrate needs --from URL and --to URL");
  return await runMigrate(values.from, values.to);
}
