/** The settings module, the config file and the README table they must match. */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { createPool } from "../mod.ts";
import { ConfigError, readConfig } from "../src/settings/config_file.ts";
import { poolOptionsFrom } from "../src/settings/options.ts";
import { parseBool, Settings, settingsHelp, settingsTable } from "../src/settings/read.ts";
import { SETTINGS } from "../src/settings/table.ts";

const ROOT = new URL("..", import.meta.url);

const problems = (json: unknown): string[] => {
  try {
    readConfig(json);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  return [];
};

describe("settings", () => {
  it("README's configuration table is the declared list, row for row", async () => {
    const readme = await readFile(new URL("README.md", ROOT), "utf8");
    const start = readme.indexOf("| Environment | Flag | Default | Meaning |");
    const table = readme.slice(start, readme.indexOf("\n\n", start));
    assert.equal(table, settingsTable(), "regenerate the table from src/settings/table.ts (settingsTable())");
  });

  it("--help names every setting and its flag", () => {
    const help = settingsHelp();
    for (const s of SETTINGS) {
      assert.ok(help.includes(s.env), s.env);
      if (s.flag) assert.ok(help.includes(`--${s.flag} ${s.env}`), s.flag);
    }
  });

  it("reads booleans alike for every setting: true/false, 1/0, yes/no, on/off", () => {
    for (const on of ["true", "1", "yes", "on", "TRUE", " Yes "]) assert.equal(parseBool("X", on), true, on);
    for (const off of ["false", "0", "no", "off", "False"]) assert.equal(parseBool("X", off), false, off);
    assert.throws(() => parseBool("ENABLE_RATE_LIMIT", "maybe"), /ENABLE_RATE_LIMIT must be true or false/);
    // Once on (ENABLE_RATE_LIMIT=1) and off (ENABLE_USERS=1) in the old code: now both on.
    assert.equal(new Settings({ ENABLE_RATE_LIMIT: "1" }).bool("ENABLE_RATE_LIMIT"), true);
    assert.equal(new Settings({ ENABLE_USERS: "1" }).bool("ENABLE_USERS"), true);
    assert.equal(new Settings({}).bool("DISCOVER_MODELS"), true, "declared default");
  });

  it("names the flag or the variable a bad value came from; flags win; blanks are unset", () => {
    assert.throws(
      () => new Settings({ MAX_ATTEMPTS: "three" }).int("MAX_ATTEMPTS"),
      /^SettingError: MAX_ATTEMPTS must be a positive integer, got "three"/,
    );
    assert.throws(
      () => new Settings({ PORT: "8787" }, { port: "99999" }).port("PORT"),
      /--port must be a port from 0 to 65535/,
    );
    assert.equal(new Settings({ PORT: "1" }, { port: "2" }).port("PORT"), 2);
    assert.equal(new Settings({ PORT: " " }).port("PORT"), 8787);
    assert.equal(
      new Settings((name) => (name === "HOST" ? "::1" : undefined)).str("HOST"),
      "::1",
      "Deno.env.get-style source",
    );
    assert.equal(
      new Settings({ ADMIN_TOKEN: { binding: true } as unknown as string }).str("ADMIN_TOKEN"),
      undefined,
      "non-string bindings ignored",
    );
  });

  it("refuses base URLs without a scheme or with /v1 twice, naming the setting", () => {
    const opts = (env: Record<string, string>) => poolOptionsFrom(new Settings(env));
    assert.throws(
      () => opts({ OLLAMA_BASE_URL: "ollama.com" }),
      /^SettingError: OLLAMA_BASE_URL: must be an http\(s\) URL, got "ollama.com"/,
    );
    assert.throws(() => opts({ OLLAMA_BASE_URL: "localhost:11434" }), /OLLAMA_BASE_URL: must be an http\(s\) URL/);
    assert.throws(
      () => opts({ OLLAMA_BASE_URL: "https://ollama.com/v1" }),
      /OLLAMA_BASE_URL: "https:\/\/ollama.com\/v1" ends in \/v1/,
    );
    assert.throws(
      () => opts({ OPENROUTER_BASE_URL: "https://openrouter.ai/api/v1/" }),
      /OPENROUTER_BASE_URL: .* ends in \/v1/,
    );
    const ok = opts({ OLLAMA_BASE_URL: "http://127.0.0.1:11434/" });
    assert.equal(ok.providers[0].baseURL, "http://127.0.0.1:11434");
  });

  it("builds createPool options: settings over the config file", () => {
    const config = readConfig({
      providers: [{ type: "ollama" }, {
        id: "groq",
        type: "openai-compatible",
        baseURL: "https://api.groq.com/openai/v1",
        prefix: "/groq/v1",
        headers: { "x-a": "1" },
      }],
      models: { fast: [{ provider: "groq", model: "llama" }] },
      failover: { maxAttempts: 5, errorCooldownMs: 1000 },
      healthCheck: { discoverModels: false },
      rateLimit: { perToken: 9 },
    });
    const o = poolOptionsFrom(new Settings({ MAX_ATTEMPTS: "2", OLLAMA_BASE_URL: "http://127.0.0.1:1" }), config);
    assert.deepEqual(o.providers.map((p) => p.id), ["ollama", "groq"]);
    assert.equal(o.providers[0].baseURL, "http://127.0.0.1:1");
    assert.deepEqual(o.providers[1].headers, { "x-a": "1" });
    assert.deepEqual(o.failover, { maxAttempts: 2, errorCooldownMs: 1000 });
    assert.equal(o.healthCheck?.discoverModels, false, "the file's value when the setting is unset");
    assert.deepEqual(o.rateLimit, { perToken: 9 });
    assert.deepEqual(o.models, { fast: [{ provider: "groq", model: "llama" }] });
    const on = poolOptionsFrom(new Settings({ ENABLE_RATE_LIMIT: "yes", RATE_LIMIT_WINDOW: "30" }), config);
    assert.deepEqual(on.rateLimit, { perToken: 9, perIp: 60, windowMs: 30_000 });
    createPool(o); // the whole result is accepted by createPool
  });

  it("checks a config file as a whole, each problem naming its path", () => {
    assert.deepEqual(
      problems({
        providers: [
          { type: "ollama" },
          { id: "groq", type: "openai-compatible", baseURL: "https://api.groq.com/openai/v1", prefix: "/groq/v1" },
          { id: "ds", type: "openai-compatible", baseURL: "api.deepseek.com/v1", prefix: "/ds/v1" },
          { id: "twice", type: "openai-compatible", baseURL: "https://x.example/v1/v1", prefix: "x" },
          { id: "Bad Id", type: "openai-compatible" },
          { type: "anthropic" },
          { type: "ollama", baseURL: "https://ollama.com/api", extra: 1 },
        ],
        models: { fast: [{ provider: "groq" }], slow: [] },
        failover: "fast",
        colour: "blue",
      }),
      [
        "colour: is not a config option (known: providers, models, failover, flushIntervalMs, syncIntervalMs, maxBodyBytes, maxResponseBytes, streamIdleTimeoutMs, upstreamBodyTimeoutMs, logRetentionDays, healthCheck, rateLimit, cache)",
        'providers[2].baseURL: must be an http(s) URL, got "api.deepseek.com/v1" (add http:// or https://)',
        'providers[3].baseURL: "https://x.example/v1/v1" has /v1 twice; give the base URL with /v1 once',
        'providers[3].prefix: must be a path such as "/groq/v1"',
        'providers[4].id: must be lowercase letters, digits, "-" or "_"',
        "providers[5].type: must be one of ollama, openrouter, openai-compatible",
        'providers[6].baseURL: "https://ollama.com/api" ends in /api, which the pool adds itself; give the root without it',
        "providers[6].extra: is not a provider field",
        'providers[6].id: "ollama" is used twice',
        'models."fast"[0]: must be {"provider": "<id>", "model": "<name>"}',
        'models."slow": must be a non-empty array of {provider, model}',
        "failover: must be a number or an object, as createPool takes it",
      ],
    );
    assert.deepEqual(problems([]), ["(top level): must be a JSON object"]);
  });

  it("the example config file is valid and starts a pool", async () => {
    const config = readConfig(JSON.parse(await readFile(new URL("examples/config/pool.json", ROOT), "utf8")));
    const o = poolOptionsFrom(new Settings({}), config);
    assert.deepEqual(o.providers.map((p) => p.id), ["ollama", "openrouter", "groq", "deepseek"]);
    createPool(o);
  });
});
