/**
 * The server's config file (`--config FILE`, `POOL_CONFIG`): JSON holding `providers`, model
 * aliases (`models`) and the plain-data options of `createPool`. Validated as a whole before
 * anything starts, each error naming its path (`providers[2].baseURL: must be an http(s) URL`).
 * @module
 */
import type { PoolOptions } from "../options.ts";
import { rootProblem, urlProblem } from "../providers/base_url.ts";
import { ollama } from "../providers/ollama.ts";
import { openaiCompatible } from "../providers/openai_compatible.ts";
import { openrouter } from "../providers/openrouter.ts";
import type { Provider } from "../providers/types.ts";
import type { ModelAliases } from "../proxy/aliases.ts";

/** A provider as the file declares it. */
export interface ProviderSpec {
  id: string;
  type: "ollama" | "openrouter" | "openai-compatible";
  baseURL?: string;
  prefix?: string;
  headers?: Record<string, string>;
  appUrl?: string;
  appTitle?: string;
}

/** What a valid file holds. */
export interface PoolConfig {
  providers?: ProviderSpec[];
  models?: ModelAliases;
  /** The other options, passed to `createPool` as they are (it validates their values). */
  options: Partial<PoolOptions>;
}

/** The config file was unusable: every problem found, one per line, each naming its path. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

/** Options that are plain data (functions, storage and fetch cannot come from JSON). */
const PLAIN_OPTIONS = [
  "failover",
  "flushIntervalMs",
  "syncIntervalMs",
  "maxBodyBytes",
  "maxResponseBytes",
  "streamIdleTimeoutMs",
  "upstreamBodyTimeoutMs",
  "logRetentionDays",
  "healthCheck",
  "rateLimit",
  "cache",
] as const;
const TYPES = ["ollama", "openrouter", "openai-compatible"];
const ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const PREFIX = /^\/[A-Za-z0-9._~\/-]*$/;

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * A header value every runtime sends as it is: visible Latin-1 text, spaces and tabs. A line
 * break or control character made every upstream request fail, with the value in the log.
 */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Validates a parsed config file; throws {@link ConfigError} listing every problem. */
export function readConfig(json: unknown): PoolConfig {
  const problems: string[] = [];
  const bad = (path: string, message: string): void => void problems.push(`${path}: ${message}`);
  if (!isObject(json)) throw new ConfigError(["(top level): must be a JSON object"]);
  const config: PoolConfig = { options: {} };
  for (const key of Object.keys(json)) {
    if (key !== "providers" && key !== "models" && !(PLAIN_OPTIONS as readonly string[]).includes(key)) {
      bad(key, `is not a config option (known: providers, models, ${PLAIN_OPTIONS.join(", ")})`);
    }
  }
  if (json.providers !== undefined) {
    if (!Array.isArray(json.providers) || json.providers.length === 0) bad("providers", "must be a non-empty array");
    else {
      const seen = new Set<string>();
      config.providers = json.providers.flatMap((p, i) => {
        const spec = providerSpec(p, `providers[${i}]`, bad);
        if (spec && seen.has(spec.id)) bad(`providers[${i}].id`, `"${spec.id}" is used twice`);
        if (spec) seen.add(spec.id);
        return spec ? [spec] : [];
      });
    }
  }
  if (json.models !== undefined) config.models = aliases(json.models, bad);
  for (const key of PLAIN_OPTIONS) {
    if (json[key] === undefined) continue;
    if (typeof json[key] !== "number" && !isObject(json[key])) {
      bad(key, "must be a number or an object, as createPool takes it");
    } else (config.options as Record<string, unknown>)[key] = json[key];
  }
  if (problems.length) throw new ConfigError(problems);
  return config;
}

function providerSpec(
  p: unknown,
  path: string,
  bad: (path: string, message: string) => void,
): ProviderSpec | undefined {
  if (!isObject(p)) return void bad(path, "must be an object {id, type, baseURL, prefix, headers?}");
  const type = p.type;
  if (typeof type !== "string" || !TYPES.includes(type)) {
    return void bad(`${path}.type`, `must be one of ${TYPES.join(", ")}`);
  }
  const fixedId = type === "openai-compatible" ? undefined : type;
  const id = p.id ?? fixedId;
  if (typeof id !== "string" || !ID.test(id)) {
    return void bad(`${path}.id`, 'must be lowercase letters, digits, "-" or "_"');
  }
  if (fixedId && id !== fixedId) {
    return void bad(`${path}.id`, `a provider of type ${type} has id "${fixedId}" (its routes are fixed)`);
  }
  const spec: ProviderSpec = { id, type: type as ProviderSpec["type"] };
  if (p.baseURL !== undefined || type === "openai-compatible") {
    const problem = type === "ollama"
      ? rootProblem(p.baseURL, ["v1", "api"])
      : type === "openrouter"
      ? rootProblem(p.baseURL, ["v1"])
      : urlProblem(p.baseURL);
    if (problem) bad(`${path}.baseURL`, problem);
    else spec.baseURL = p.baseURL as string;
  }
  if (type === "openai-compatible") {
    if (typeof p.prefix !== "string" || !PREFIX.test(p.prefix) || p.prefix === "/") {
      bad(`${path}.prefix`, 'must be a path such as "/groq/v1"');
    } else spec.prefix = p.prefix;
  }
  if (p.headers !== undefined) {
    if (!isObject(p.headers) || Object.values(p.headers).some((v) => typeof v !== "string")) {
      bad(`${path}.headers`, "must be an object of strings");
    } else {
      const entries = Object.entries(p.headers as Record<string, string>);
      // The path names the header; the value is never repeated (it may be a credential).
      const badName = entries.find(([name]) => !HEADER_NAME.test(name));
      const badValue = entries.find(([, value]) => !HEADER_VALUE.test(value));
      if (badName) bad(`${path}.headers`, `${JSON.stringify(badName[0].slice(0, 64))} is not a header name`);
      else if (badValue) {
        bad(
          `${path}.headers.${badValue[0]}`,
          "the value holds a line break or a control character; header values are one line of text",
        );
      } else spec.headers = p.headers as Record<string, string>;
    }
  }
  for (const k of ["appUrl", "appTitle"] as const) {
    if (p[k] === undefined) continue;
    if (type !== "openrouter" || typeof p[k] !== "string") {
      bad(`${path}.${k}`, "is a string option of type openrouter only");
    } else spec[k] = p[k] as string;
  }
  for (const k of Object.keys(p)) {
    if (!["id", "type", "baseURL", "prefix", "headers", "appUrl", "appTitle"].includes(k)) {
      bad(`${path}.${k}`, "is not a provider field");
    }
  }
  return spec;
}

function aliases(models: unknown, bad: (path: string, message: string) => void): ModelAliases | undefined {
  if (!isObject(models)) return void bad("models", 'must be an object: {"alias": [{"provider", "model"}, …]}');
  const out: ModelAliases = {};
  for (const [name, targets] of Object.entries(models)) {
    const path = `models.${JSON.stringify(name)}`;
    if (!Array.isArray(targets) || targets.length === 0) {
      bad(path, "must be a non-empty array of {provider, model}");
      continue;
    }
    out[name] = [];
    targets.forEach((t, i) => {
      if (!isObject(t) || typeof t.provider !== "string" || typeof t.model !== "string" || t.model === "") {
        bad(`${path}[${i}]`, 'must be {"provider": "<id>", "model": "<name>"}');
      } else out[name].push({ provider: t.provider, model: t.model });
    });
  }
  return out;
}

/** The providers a file declares, built with their presets. */
export function buildProviders(specs: ProviderSpec[]): Provider[] {
  return specs.map((p) => {
    if (p.type === "openai-compatible") {
      return openaiCompatible({ id: p.id, baseURL: p.baseURL!, prefix: p.prefix!, headers: p.headers });
    }
    const preset = p.type === "ollama"
      ? ollama({ baseURL: p.baseURL })
      : openrouter({ baseURL: p.baseURL, appUrl: p.appUrl, appTitle: p.appTitle });
    return p.headers ? { ...preset, headers: { ...preset.headers, ...p.headers } } : preset;
  });
}
