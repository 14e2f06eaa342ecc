/**
 * ollama-api-pool: many upstream LLM API keys behind one OpenAI-compatible endpoint, with key
 * rotation, failover, cooldowns and usage statistics.
 *
 * @example
 * import { createPool, ollama, openrouter } from "ollama-api-pool";
 * const pool = createPool({ providers: [ollama(), openrouter()], auth: { adminToken: "change-me" } });
 * export default pool; // Workers, `deno serve`, Bun
 * @module
 */
export { createPool, type Pool } from "./src/pool.ts";
export {
  type AuthOptions,
  DEFAULT_FAILOVER,
  type FailoverOptions,
  type Logger,
  type PoolOptions,
} from "./src/options.ts";
export { PoolError, type PoolErrorType } from "./src/errors.ts";
export { ollama, type OllamaOptions } from "./src/providers/ollama.ts";
export { openrouter, type OpenRouterOptions } from "./src/providers/openrouter.ts";
export { openaiCompatible, type OpenAICompatibleOptions } from "./src/providers/openai_compatible.ts";
export { classifyDefault, parseRetryAfter } from "./src/providers/classify.ts";
export type { ClassifyRules, Endpoint, KeyOutcome, Provider, Surface, WireFormat } from "./src/providers/types.ts";
export type { Inspection } from "./src/wire/types.ts";
export { openaiApi, openaiChat } from "./src/wire/openai_chat.ts";
export { openaiResponses } from "./src/wire/openai_responses.ts";
export { anthropicCountTokens, anthropicMessages } from "./src/wire/anthropic_messages.ts";
export { ollamaNative } from "./src/wire/ollama_native.ts";
export { MAX_USAGE_VALUE, type Usage } from "./src/proxy/usage.ts";
export type { HealthRules, KeyRecord } from "./src/keys/types.ts";
export type {
  ChunkSink,
  ChunkSource,
  FetchLike,
  Transport,
  TransportFetch,
  UpstreamAnswer,
  UpstreamRequest,
} from "./src/proxy/transport.ts";
export { parseKeyLines } from "./src/keys/parse.ts";
export type { TurnstileOptions, UsersOptions } from "./src/users/options.ts";
export {
  consoleMailer,
  type Mailer,
  type MailMessage,
  webhookMailer,
  type WebhookMailerOptions,
} from "./src/users/mailer.ts";
export { VERSION } from "./src/version.ts";
export { type AliasTarget, type ModelAliases } from "./src/proxy/aliases.ts";
export { parseBool, SettingError, Settings, settingsHelp, type SettingSource } from "./src/settings/read.ts";
export { type Setting, SETTINGS } from "./src/settings/table.ts";
export { poolOptionsFrom, providersFrom } from "./src/settings/options.ts";
export { ConfigError, type PoolConfig, type ProviderSpec, readConfig } from "./src/settings/config_file.ts";
