/**
 * Every setting of the stand-alone server and the runtime entry points, declared once: its
 * environment name, flag, type, default and meaning. Parsing (settings/read.ts), `--help` and
 * README's configuration table (checked by a test) all come from this list.
 * @module
 */

/** How a value is read: `int` a positive integer, `count` one that may be 0; `bool` accepts true/false, 1/0, yes/no, on/off (any case). */
export type SettingType = "int" | "count" | "port" | "bool" | "string" | "url" | "secret";

/** One setting. */
export interface Setting {
  /** Environment variable (also the Workers binding). */
  env: string;
  /** Command-line flag of the Node server, without `--`. */
  flag?: string;
  type: SettingType;
  /** The default as shown to people (`off`, `generated`, a number); absent = none. */
  shown?: string;
  /** The default as a value, where the pool applies one itself. */
  value?: number | boolean | string;
  meaning: string;
}

const s = (env: string, type: SettingType, meaning: string, extra: Partial<Setting> = {}): Setting => ({
  env,
  type,
  meaning,
  ...extra,
});

/** In the order of README's table. */
export const SETTINGS: readonly Setting[] = [
  s("PORT", "port", "Listen port", { flag: "port", shown: "`8787`", value: 8787 }),
  s("HOST", "string", "Listen address", { flag: "host", shown: "`0.0.0.0`", value: "0.0.0.0" }),
  s("DATA_DIR", "string", "Filesystem storage folder", { flag: "data-dir", shown: "`./.data`", value: "./.data" }),
  s(
    "STORAGE_URL",
    "string",
    '`memory:` (nothing kept), `file:./path`, `redis://…`, `upstash:`, `postgres://…` (see "Shared storage")',
    {
      flag: "storage",
      shown: "`file:<DATA_DIR>`",
    },
  ),
  s(
    "POOL_CONFIG",
    "string",
    'A JSON config file: providers, model aliases and other options (see "Config file"); settings here override it',
    {
      flag: "config",
    },
  ),
  s("KEYS_FILE", "string", "Import this key file (ollama.txt lines or one key per line) at start", { flag: "keys" }),
  s("KEYS_PROVIDER", "string", "The provider whose pool `--keys` fills", {
    flag: "provider",
    shown: "the first provider",
  }),
  s(
    "UPSTASH_REDIS_REST_URL",
    "url",
    "With `STORAGE_URL=upstash:`: the database's REST URL, as Upstash's console shows it",
  ),
  s("UPSTASH_REDIS_REST_TOKEN", "secret", "With `STORAGE_URL=upstash:`: its REST token"),
  s(
    "NEON_WS_PROXY",
    "string",
    "For `postgres://` on your own Postgres: the WebSocket-to-TCP proxy, e.g. `127.0.0.1:6543/`",
  ),
  s("NEON_SECURE_WEBSOCKET", "bool", "`false` when that proxy speaks plain `ws:`", { shown: "`true`", value: true }),
  s(
    "ADMIN_TOKEN",
    "secret",
    "Admin credential, at least 16 characters (shorter: the server refuses to start). Unset: generated on the first start, stored as a hash, printed once",
    { shown: "generated" },
  ),
  s("OLLAMA_BASE_URL", "url", "Ollama upstream root (without `/v1` or `/api`)", { shown: "`https://ollama.com`" }),
  s("OPENROUTER_BASE_URL", "url", "OpenRouter upstream root (without `/v1`)", { shown: "`https://openrouter.ai/api`" }),
  s("OPENROUTER_APP_URL", "string", "Sent to OpenRouter as `HTTP-Referer`"),
  s("OPENROUTER_APP_TITLE", "string", "Sent to OpenRouter as `X-Title`"),
  s("MAX_ATTEMPTS", "int", "Upstream attempts per request, each with a different key", { shown: "`3`" }),
  s("FIRST_BYTE_TIMEOUT_MS", "int", "Wait for upstream headers before trying the next key", { shown: "`30000`" }),
  s("HEALTH_CHECK_INTERVAL", "int", "Re-probe disabled keys every N seconds", { shown: "off" }),
  s("HEALTH_CHECK_CONCURRENCY", "int", "Keys probed at once", { shown: "`8`" }),
  s(
    "DISCOVER_MODELS",
    "bool",
    "Read each new key's model list in the background, so requests go to keys that serve their model",
    {
      shown: "`true`",
      value: true,
    },
  ),
  s(
    "USAGE_POLL_INTERVAL",
    "int",
    "Ask Ollama keys for their usage (`/api/usage`, undocumented, best effort) every N seconds; a key at 98 % of a window rests until it resets",
    {
      shown: "off",
    },
  ),
  s("ENABLE_RATE_LIMIT", "bool", "Turn on per-IP limits (and `RATE_LIMIT_PER_TOKEN`)", {
    shown: "`false`",
    value: false,
  }),
  s("RATE_LIMIT_REQUESTS", "int", "Requests per window per client IP", { shown: "`60`", value: 60 }),
  s("RATE_LIMIT_WINDOW", "int", "Window in seconds", { shown: "`60`", value: 60 }),
  s("RATE_LIMIT_PER_TOKEN", "int", "Requests per window per client token without its own `rpm`", { shown: "off" }),
  s(
    "CORS_ORIGINS",
    "string",
    "Browser origins allowed on the proxy routes, comma-separated (`https://chat.example`); `*` = any",
    { shown: "`*`" },
  ),
  s("TRUST_PROXY", "bool", "Take the client IP from the last `X-Forwarded-For` entry (the one your proxy added)", {
    shown: "`false`",
    value: false,
  }),
  s("MAX_BODY_BYTES", "int", "Larger request bodies get 413", { shown: "`20971520`" }),
  s(
    "LOG_RETENTION_DAYS",
    "count",
    'Days the request log keeps its records (`0` turns the log off; see "Request log")',
    { shown: "`7`" },
  ),
  s(
    "MAX_RESPONSE_BYTES",
    "int",
    "Largest upstream answer held in memory (non-stream, error bodies, probes), after decompression; larger: 502",
    {
      shown: "`33554432` (32 MiB)",
    },
  ),
  s("STREAM_IDLE_TIMEOUT_MS", "int", "Longest pause between two chunks of an upstream body (see the failure rules)", {
    shown: "`60000`",
  }),
  s(
    "UPSTREAM_BODY_TIMEOUT_MS",
    "int",
    "Longest time for a whole non-stream upstream body, headers to last byte (a trickling upstream is given up on; streams are not bounded by it)",
    { shown: "`300000`" },
  ),
  s("FLUSH_INTERVAL_MS", "int", "Statistics are written at most this often (on Workers KV each write counts)", {
    shown: "`5000`",
  }),
  s("ENABLE_USERS", "bool", 'Turn on the user system (see "Users")', { shown: "`false`", value: false }),
  s(
    "AUTH_SECRET",
    "secret",
    "Required with `ENABLE_USERS`: at least 32 characters (`openssl rand -hex 32`); sessions, code hashes and the encryption of users' tokens derive from it",
  ),
  s(
    "EMAIL_FORWARD_URL",
    "url",
    "Mail codes by POSTing JSON to this URL (a push-all-in-one forwarder or any webhook); wins over SMTP",
  ),
  s("EMAIL_HOST", "string", "Mail codes over SMTP through this host"),
  s("EMAIL_PORT", "port", "SMTP port", { shown: "`465`/`587`" }),
  s("EMAIL_SECURE", "bool", "SMTP over TLS from the start", { shown: "`true` on 465" }),
  s("EMAIL_AUTH_USER", "string", "SMTP login"),
  s("EMAIL_AUTH_PASS", "secret", "SMTP password"),
  s("EMAIL_FROM", "string", "Sender address", { shown: "`EMAIL_AUTH_USER`" }),
  s(
    "ENABLE_TURNSTILE",
    "bool",
    "Require a Cloudflare Turnstile token on send-code and register; refuses to start without `TURNSTILE_SECRET_KEY`",
    {
      shown: "`false`",
      value: false,
    },
  ),
  s("TURNSTILE_SECRET_KEY", "secret", "Turnstile secret key"),
  s("TURNSTILE_SITE_KEY", "string", "Turnstile site key (served by `GET /api/auth/config`)"),
  s("TURNSTILE_VERIFY_URL", "url", "Where tokens are verified", { shown: "Cloudflare's siteverify" }),
  s("USER_TOKEN_DAYS", "int", "Validity of the client token a registration issues", { shown: "`3`" }),
  s("USER_MAX_TOKEN_DAYS", "int", "Check-ins never extend a token beyond now + this", { shown: "no cap" }),
  s("USER_TIME_ZONE", "string", "IANA zone whose days the check-in counts", { shown: "`UTC`" }),
  s("APP_NAME", "string", "Name in the code mails", { shown: "`ollama-api-pool`" }),
];

/** The declaration of `env`; throws for a name not declared (a typo in the code, not in input). */
export function setting(env: string): Setting {
  const found = SETTINGS.find((x) => x.env === env);
  if (!found) throw new Error(`[ollama-api-pool] setting ${env} is not declared in settings/table.ts`);
  return found;
}
