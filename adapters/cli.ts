/**
 * The stand-alone server: `npm start` / `npx ollama-api-pool`. Reads the settings (flags over
 * environment over `--config` file), builds the pool on filesystem storage by default, imports
 * `--keys` and serves. Start-up problems end the process with one line naming the setting, and
 * exit code 1 — never a stack trace.
 * @module
 */
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { createPool, VERSION } from "../mod.ts";
import { importKeyText, type TextImportResult } from "../src/keys/import_text.ts";
import { ConfigError, type PoolConfig, readConfig } from "../src/settings/config_file.ts";
import { poolOptionsFrom } from "../src/settings/options.ts";
import { Settings, settingsHelp } from "../src/settings/read.ts";
import { SETTINGS } from "../src/settings/table.ts";
import { nodeClientIp, serve } from "./node.ts";
import { importEnded, keysStored } from "./release_memory.ts";
import { undiciFetch } from "./node_fetch.ts";
import { storageFrom } from "./storage_url.ts";
import { runTransfer, TRANSFER_COMMANDS, type TransferCommand } from "./cli_transfer.ts";
import { usersFromEnv } from "./users_env.ts";

const HELP = `ollama-api-pool ${VERSION} — many upstream LLM keys behind one OpenAI-compatible endpoint

Usage: ollama-api-pool [--config FILE] [--port N] [--storage URL] [--keys FILE [--provider ID]]
       ollama-api-pool export|import|migrate …   (move the pool's state; see export --help)
       ollama-api-pool --version | --help

Settings (flag, environment variable; flags win over the environment, both over --config):
${settingsHelp()}`;

/** A start-up failure already worded for the operator: printed as it is. */
class StartupError extends Error {}

/** A URL as it may be printed: user and password hidden. */
const shownUrl = (url: string): string => url.replace(/\/\/[^@/]*@/, "//***@");

async function loadConfig(path: string, origin: string): Promise<PoolConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new StartupError(
      `${origin} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // Where, not what: the parser's message quotes the text around the error, and a config
    // file may hold credentials (provider headers).
    const at = /at position \d+(?: \(line \d+ column \d+\))?/.exec((err as Error).message)?.[0];
    throw new StartupError(`${origin} ${path}: not valid JSON${at ? ` (${at})` : ""}`);
  }
  try {
    return readConfig(json);
  } catch (err) {
    if (err instanceof ConfigError) throw new StartupError(err.problems.map((p) => `${path}: ${p}`).join("\n"));
    throw err;
  }
}

async function main(): Promise<void> {
  const command = process.argv[2] as TransferCommand;
  if (TRANSFER_COMMANDS.includes(command)) return runTransfer(command, process.argv.slice(3));
  const flags: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
    version: { type: "boolean" },
  };
  for (const s of SETTINGS) if (s.flag) flags[s.flag] = { type: "string" };
  const { values } = parseArgs({ options: flags });
  if (values.version) return void console.log(VERSION);
  if (values.help) return void console.log(HELP);
  const env = process.env;
  const settings = new Settings(env, values);
  const configPath = settings.str("POOL_CONFIG");
  const config = configPath ? await loadConfig(configPath, settings.origin("POOL_CONFIG")) : undefined;
  const port = settings.port("PORT")!;
  const hostname = settings.str("HOST")!;
  const users = usersFromEnv(env); // before storage: a refused configuration should not touch it
  const options = poolOptionsFrom(settings, config);
  const storageUrl = settings.str("STORAGE_URL");
  const pool = createPool({
    ...options,
    storage: await storageFrom(storageUrl, settings.str("DATA_DIR")!),
    auth: {
      ...options.auth,
      onAdminTokenGenerated: (token) =>
        console.log(`\nNo ADMIN_TOKEN set: generated one. It is shown only now; keep it:\n\n  ${token}\n`),
    },
    fetch: undiciFetch(),
    clientIp: nodeClientIp(settings.bool("TRUST_PROXY")),
    users,
  });
  // Bulk imports leave garbage V8 would keep resident: collected around them (release_memory.ts).
  const discover = pool.state.keys.onAdded;
  pool.state.keys.onAdded = (provider, ids) => {
    discover?.(provider, ids);
    keysStored(ids.length);
  };
  pool.state.keys.onImported = (_provider, added) => importEnded(added);
  try {
    await pool.ready();
  } catch (err) {
    const where = storageUrl
      ? `${settings.origin("STORAGE_URL")} ${shownUrl(storageUrl)}`
      : `${settings.origin("DATA_DIR")} ${settings.str("DATA_DIR")}`;
    throw new StartupError(`${where}: storage unreachable (${(err as Error)?.message ?? err})`);
  }
  const keysFile = settings.str("KEYS_FILE");
  if (keysFile) await importKeys(pool, keysFile, settings.str("KEYS_PROVIDER") ?? options.providers[0].id);
  try {
    await serve(pool, {
      port,
      hostname,
      onListen: (info) =>
        console.log(
          `ollama-api-pool listening on http://${info.address === "0.0.0.0" ? "127.0.0.1" : info.address}:${info.port}`,
        ),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "EADDRINUSE"
      ? "is in use by another process"
      : code === "EACCES"
      ? "needs privileges this process lacks"
      : `cannot be listened on (${code ?? (err as Error).message})`;
    throw new StartupError(
      `${settings.origin("PORT")} ${port} on ${
        settings.origin("HOST")
      } ${hostname} ${why}; choose another with --port or PORT`,
    );
  }
}

/** `--keys FILE [--provider ID]`: imports a key file into that provider's pool. */
async function importKeys(pool: ReturnType<typeof createPool>, file: string, provider: string): Promise<void> {
  if (!pool.state.providers.has(provider)) {
    throw new StartupError(
      `--provider ${provider}: not a configured provider (${[...pool.state.providers.keys()].join(", ")})`,
    );
  }
  const t0 = Date.now();
  let r: TextImportResult;
  try {
    // Read as it streams, a step of keys at a time, like the import route (never the whole file).
    r = await importKeyText(pool.state.keys, provider, createReadStream(file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StartupError(`--keys ${file}: ${code ? `cannot read it (${code})` : (err as Error).message}`);
  }
  const took = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(
    `imported ${file} into ${provider}: ${r.total} lines, ${r.added} added, ${r.existing} already present, ${r.invalid.length} invalid (${took} s)`,
  );
  for (const bad of r.invalid.slice(0, 10)) console.log(`  line ${bad.line}: ${bad.reason}`);
}

main().catch((err) => {
  // Every start-up error is one line (a config file may list several problems, one per line).
  const message = err instanceof Error ? err.message : String(err);
  console.error(message.split("\n").map((line) => `ollama-api-pool: ${line}`).join("\n"));
  process.exit(1);
});
