/**
 * `createPool` options from the settings (and a config file, which they override): the part
 * every entry point shares. Storage, the upstream transport and the client address differ per
 * runtime and are added by each entry point.
 * @module
 */
import type { PoolOptions } from "../options.ts";
import { rootProblem } from "../providers/base_url.ts";
import { ollama } from "../providers/ollama.ts";
import { openrouter } from "../providers/openrouter.ts";
import type { Provider } from "../providers/types.ts";
import { buildProviders, type PoolConfig, type ProviderSpec } from "./config_file.ts";
import { SettingError, type Settings } from "./read.ts";

/** A preset's root URL from a setting, checked: scheme required, not ending in what the preset adds. */
function rootUrl(settings: Settings, env: string, adds: string[]): string | undefined {
  const v = settings.raw(env);
  if (v === undefined) return undefined;
  const problem = rootProblem(v, adds);
  if (problem) throw new SettingError(`${settings.origin(env)}: ${problem}`);
  return v;
}

/**
 * The providers: the config file's, or Ollama and OpenRouter. `OLLAMA_BASE_URL` and the
 * `OPENROUTER_*` settings override the matching presets' fields either way.
 */
export function providersFrom(settings: Settings, specs?: ProviderSpec[]): Provider[] {
  const ollamaURL = rootUrl(settings, "OLLAMA_BASE_URL", ["v1", "api"]);
  const openrouterURL = rootUrl(settings, "OPENROUTER_BASE_URL", ["v1"]);
  const appUrl = settings.str("OPENROUTER_APP_URL");
  const appTitle = settings.str("OPENROUTER_APP_TITLE");
  if (!specs) return [ollama({ baseURL: ollamaURL }), openrouter({ baseURL: openrouterURL, appUrl, appTitle })];
  return buildProviders(specs.map((p) => {
    if (p.type === "ollama") return { ...p, baseURL: ollamaURL ?? p.baseURL };
    if (p.type === "openrouter") {
      return {
        ...p,
        baseURL: openrouterURL ?? p.baseURL,
        appUrl: appUrl ?? p.appUrl,
        appTitle: appTitle ?? p.appTitle,
      };
    }
    return p;
  }));
}

/** The shared options: providers, aliases, admin token, failover, limits, probes, flushing. */
export function poolOptionsFrom(settings: Settings, config: PoolConfig = { options: {} }): PoolOptions {
  const file = config.options;
  const seconds = (env: string): number | undefined => {
    const n = settings.int(env);
    return n === undefined ? undefined : n * 1000;
  };
  const defined = <T extends object>(o: T): Partial<T> =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  const rateLimitOn = settings.raw("ENABLE_RATE_LIMIT") === undefined ? undefined : settings.bool("ENABLE_RATE_LIMIT");
  return {
    ...file,
    providers: providersFrom(settings, config.providers),
    ...(config.models ? { models: config.models } : {}),
    auth: { adminToken: settings.str("ADMIN_TOKEN") },
    failover: {
      ...file.failover,
      ...defined({
        maxAttempts: settings.int("MAX_ATTEMPTS"),
        firstByteTimeoutMs: settings.int("FIRST_BYTE_TIMEOUT_MS"),
      }),
    },
    ...defined({
      maxBodyBytes: settings.int("MAX_BODY_BYTES"),
      flushIntervalMs: settings.int("FLUSH_INTERVAL_MS"),
      logRetentionDays: settings.count("LOG_RETENTION_DAYS"),
      maxResponseBytes: settings.int("MAX_RESPONSE_BYTES"),
      streamIdleTimeoutMs: settings.int("STREAM_IDLE_TIMEOUT_MS"),
      upstreamBodyTimeoutMs: settings.int("UPSTREAM_BODY_TIMEOUT_MS"),
      corsOrigins: settings.str("CORS_ORIGINS"),
    }),
    healthCheck: {
      ...file.healthCheck,
      ...defined({
        intervalMs: seconds("HEALTH_CHECK_INTERVAL"),
        concurrency: settings.int("HEALTH_CHECK_CONCURRENCY"),
        usageIntervalMs: seconds("USAGE_POLL_INTERVAL"),
      }),
      discoverModels: settings.raw("DISCOVER_MODELS") === undefined && file.healthCheck?.discoverModels !== undefined
        ? file.healthCheck.discoverModels
        : settings.bool("DISCOVER_MODELS"),
    },
    rateLimit: rateLimitOn === false ? undefined : rateLimitOn
      ? {
        ...file.rateLimit,
        perIp: settings.int("RATE_LIMIT_REQUESTS"),
        windowMs: seconds("RATE_LIMIT_WINDOW"),
        ...defined({ perToken: settings.int("RATE_LIMIT_PER_TOKEN") }),
      }
      : file.rateLimit,
  };
}
