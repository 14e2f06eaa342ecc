/**
 * The stand-alone server: `npm start` / `npx ollama-api-pool`. Reads environment variables and
 * flags, builds the pool on filesystem storage by default, imports `--keys` and serves.
 * @module
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { createPool, ollama, openrouter, parseKeyLines } from "../mod.ts";
import { nodeClientIp, serve } from "./node.ts";
import { undiciFetch } from "./node_fetch.ts";
import { storageFrom } from "./storage_url.ts";
import { runTransfer, TRANSFER_COMMANDS, type TransferCommand } from "./cli_transfer.ts";
import { usersFromEnv } from "./users_env.ts";

const HELP = `ollama-api-pool — many upstream LLM keys behind one OpenAI-compatible endpoint

Usage: ollama-api-pool [--port N] [--data-dir DIR] [--storage URL] [--keys FILE]
       ollama-api-pool export|import|migrate …   (move the pool's state; see export --help)

  --port N        listen port (env PORT, default 8787)
  --host H        listen address (env HOST, default 0.0.0.0)
  --data-dir DIR  filesystem storage folder (env DATA_DIR, default ./.data)
  --storage URL   memory: | file:./path | redis://… | postgres://… | upstash: (env STORAGE_URL;
                  default file:<data-dir>)
  --keys FILE     import an ollama.txt into the ollama pool at start
  -h, --help      this text

Environment: ADMIN_TOKEN, OLLAMA_BASE_URL, OPENROUTER_BASE_URL, OPENROUTER_APP_URL,
OPENROUTER_APP_TITLE, MAX_ATTEMPTS, FIRST_BYTE_TIMEOUT_MS, MAX_BODY_BYTES, MAX_RESPONSE_BYTES,
STREAM_IDLE_TIMEOUT_MS, HEALTH_CHECK_INTERVAL,
HEALTH_CHECK_CONCURRENCY, ENABLE_RATE_LIMIT, RATE_LIMIT_REQUESTS, RATE_LIMIT_WINDOW,
RATE_LIMIT_PER_TOKEN, TRUST_PROXY, LOG_RETENTION_DAYS, CORS_ORIGINS, NEON_WS_PROXY,
NEON_SECURE_WEBSOCKET, UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN; users: ENABLE_USERS,
AUTH_SECRET, EMAIL_FORWARD_URL, EMAIL_HOST,
EMAIL_PORT, EMAIL_SECURE, EMAIL_AUTH_USER, EMAIL_AUTH_PASS, EMAIL_FROM, ENABLE_TURNSTILE,
TURNSTILE_SECRET_KEY, TURNSTILE_SITE_KEY, USER_TOKEN_DAYS, USER_MAX_TOKEN_DAYS,
USER_TIME_ZONE, APP_NAME (see README).`;

function intEnv(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${v}"`);
  return n;
}

async function main(): Promise<void> {
  const command = process.argv[2] as TransferCommand;
  if (TRANSFER_COMMANDS.includes(command)) return runTransfer(command, process.argv.slice(3));
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "data-dir": { type: "string" },
      storage: { type: "string" },
      keys: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const env = process.env;
  const port = Number(values.port ?? env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`port must be 0-65535, got "${values.port ?? env.PORT}"`);
  const dataDir = values["data-dir"] ?? env.DATA_DIR ?? "./.data";
  const failover: Record<string, number> = {};
  const attempts = intEnv("MAX_ATTEMPTS");
  if (attempts) failover.maxAttempts = attempts;
  const firstByte = intEnv("FIRST_BYTE_TIMEOUT_MS");
  if (firstByte) failover.firstByteTimeoutMs = firstByte;

  const users = usersFromEnv(env); // before storage: a refused configuration should not touch it
  const pool = createPool({
    providers: [
      ollama({ baseURL: env.OLLAMA_BASE_URL || undefined }),
      openrouter({ baseURL: env.OPENROUTER_BASE_URL || undefined, appUrl: env.OPENROUTER_APP_URL, appTitle: env.OPENROUTER_APP_TITLE }),
    ],
    storage: await storageFrom(values.storage ?? env.STORAGE_URL, dataDir),
    auth: {
      adminToken: env.ADMIN_TOKEN || undefined,
      onAdminTokenGenerated: (token) => console.log(`\nNo ADMIN_TOKEN set: generated one. It is shown only now; keep it:\n\n  ${token}\n`),
    },
    failover,
    maxBodyBytes: intEnv("MAX_BODY_BYTES"),
    logRetentionDays: env.LOG_RETENTION_DAYS === "0" ? 0 : intEnv("LOG_RETENTION_DAYS"),
    maxResponseBytes: intEnv("MAX_RESPONSE_BYTES"),
    streamIdleTimeoutMs: intEnv("STREAM_IDLE_TIMEOUT_MS"),
    healthCheck: {
      intervalMs: intEnv("HEALTH_CHECK_INTERVAL") === undefined ? undefined : intEnv("HEALTH_CHECK_INTERVAL")! * 1000,
      concurrency: intEnv("HEALTH_CHECK_CONCURRENCY"),
    },
    fetch: undiciFetch(),
    clientIp: nodeClientIp(env.TRUST_PROXY === "true"),
    corsOrigins: env.CORS_ORIGINS || undefined,
    rateLimit: env.ENABLE_RATE_LIMIT === "true"
      ? { perIp: intEnv("RATE_LIMIT_REQUESTS") ?? 60, windowMs: (intEnv("RATE_LIMIT_WINDOW") ?? 60) * 1000, perToken: intEnv("RATE_LIMIT_PER_TOKEN") }
      : undefined,
    users,
  });
  await pool.ready();
  if (values.keys) {
    const t0 = Date.now();
    const parsed = parseKeyLines(await readFile(values.keys, "utf8"));
    const r = await pool.state.keys.add("ollama", parsed.keys);
    const took = ((Date.now() - t0) / 1000).toFixed(1);
    console.log(`imported ${values.keys}: ${parsed.total} lines, ${r.added} added, ${r.existing} already present, ${parsed.invalid.length} invalid (${took} s)`);
    for (const bad of parsed.invalid.slice(0, 10)) console.log(`  line ${bad.line}: ${bad.reason}`);
  }
  await serve(pool, {
    port,
    hostname: values.host ?? env.HOST ?? "0.0.0.0",
    onListen: (info) => console.log(`ollama-api-pool listening on http://${info.address === "0.0.0.0" ? "127.0.0.1" : info.address}:${info.port}`),
  });
}

main().catch((err) => {
  console.error(`ollama-api-pool: ${(err as Error).message}`);
  process.exit(1);
});
