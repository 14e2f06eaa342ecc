/**
 * Model aliases: one public model name served by a list of (provider, model) targets, tried in
 * order. A client asking for the alias on a `/v1` route (OpenAI, Responses, Anthropic Messages) gets the first target with a
 * key that serves it; when a target's keys are all resting, failing or lack the model, the next
 * target is tried — before the first byte, so the client sees one answer.
 * @module
 */
import { PoolError } from "../errors.ts";
import type { KeyPool } from "../keys/key_pool.ts";
import type { Endpoint, Provider } from "../providers/types.ts";
import { type ProxyCall, type ProxyDeps, proxyWithFailover } from "./failover.ts";
import type { ParsedRequest } from "./request.ts";

/** One target of an alias. */
export interface AliasTarget {
  provider: string;
  model: string;
}

/** `{ "fast": [{ provider: "ollama", model: "gpt-oss:20b" }, { provider: "groq", model: "openai/gpt-oss-20b" }] }` */
export type ModelAliases = Record<string, AliasTarget[]>;

/** Why aliases are unusable with these providers, naming the path; undefined when fine. */
export function aliasProblem(aliases: unknown, providers: ReadonlyArray<Provider>): string | undefined {
  if (aliases === undefined) return undefined;
  if (typeof aliases !== "object" || aliases === null || Array.isArray(aliases)) {
    return "models: must be an object of alias -> targets";
  }
  const ids = new Set(providers.map((p) => p.id));
  for (const [name, targets] of Object.entries(aliases)) {
    const path = `models.${JSON.stringify(name)}`;
    if (name === "" || name.length > 200) return `${path}: an alias is 1 to 200 characters`;
    if (!Array.isArray(targets) || targets.length === 0) {
      return `${path}: must be a non-empty array of {provider, model}`;
    }
    for (const [i, t] of targets.entries()) {
      if (typeof t?.model !== "string" || t.model === "") return `${path}[${i}].model: a model name is required`;
      if (!ids.has(t?.provider)) {
        return `${path}[${i}].provider: "${t?.provider}" is not a configured provider (${[...ids].join(", ")})`;
      }
    }
  }
  return undefined;
}

/** A target made ready to call: its provider, keys and the matching endpoint. */
interface Route {
  target: AliasTarget;
  provider: Provider;
  keys: KeyPool;
  endpoint: Endpoint;
}

/** Failures that mean "this target cannot serve now": the next one is tried. */
const FALL_OVER = new Set([
  "no_keys",
  "no_active_keys",
  "keys_cooling_down",
  "upstream_rate_limited",
  "upstream_usage_limited",
  "upstream_unavailable",
  "upstream_redirect",
  "model_not_found",
]);

/** Resolves aliases for the `/v1` routes. */
export class AliasRouter {
  #aliases: Map<string, AliasTarget[]>;
  #providers: Map<string, Provider>;
  #keys: (provider: string) => KeyPool;

  constructor(
    aliases: ModelAliases | undefined,
    providers: Map<string, Provider>,
    keys: (provider: string) => KeyPool,
  ) {
    this.#aliases = new Map(Object.entries(aliases ?? {}));
    this.#providers = providers;
    this.#keys = keys;
  }

  get names(): string[] {
    return [...this.#aliases.keys()];
  }

  /** Whether a request on `endpoint` for `model` is an alias to resolve: the `/v1` routes (OpenAI, Responses, Anthropic), not Ollama's native ones. */
  applies(endpoint: Endpoint, model: string | undefined): boolean {
    return model !== undefined && endpoint.method === "POST" && endpoint.path.includes("/v1/") &&
      this.#aliases.has(model);
  }

  /**
   * Tries the alias's targets in order. Each target's call goes through the usual failover over
   * its provider's keys; a target that cannot serve (every key resting, failing, or lacking the
   * model) passes the request on to the next. The last target's answer or error is the client's.
   */
  async proxy(d: ProxyDeps, call: ProxyCall, alias: string): Promise<Response> {
    const routes = this.#routes(alias, call.endpoint);
    if (routes.length === 0) {
      throw new PoolError(
        404,
        "model_not_found",
        `no target of model alias "${alias}" serves ${call.endpoint.path.replace(/^.*\/v1/, "/v1")}`,
      );
    }
    let last: unknown;
    for (const [i, r] of routes.entries()) {
      const request: ParsedRequest = {
        ...call.request,
        model: r.target.model,
        body: withModel(call.request.body, r.target.model),
      };
      const isLast = i === routes.length - 1;
      // The log names what served the request, as the statistics count it: this target.
      if (call.trace) (call.trace.record.provider = r.provider.id, call.trace.target(r.target.model));
      try {
        return await proxyWithFailover(d, {
          ...call,
          provider: r.provider,
          keys: r.keys,
          endpoint: r.endpoint,
          request,
          alias,
          fallsThrough: !isLast,
        });
      } catch (err) {
        if (isLast || !(err instanceof PoolError) || !FALL_OVER.has(err.code)) throw err;
        last = err;
      }
    }
    throw last;
  }

  /** The targets whose provider serves the same route in the same dialect (`…/chat/completions` etc.). */
  #routes(alias: string, endpoint: Endpoint): Route[] {
    const suffix = endpoint.path.slice(endpoint.path.lastIndexOf("/v1/") + 3);
    const out: Route[] = [];
    for (const target of this.#aliases.get(alias) ?? []) {
      const provider = this.#providers.get(target.provider);
      const match = provider?.endpoints.find((e) =>
        e.format.id === endpoint.format.id && e.method === "POST" && e.path.endsWith(suffix)
      );
      if (provider && match) out.push({ target, provider, keys: this.#keys(provider.id), endpoint: match });
    }
    return out;
  }
}

/** The body with `model` replaced (the alias is not a name the upstream knows). */
function withModel(body: string | undefined, model: string): string | undefined {
  if (body === undefined) return undefined;
  const json = JSON.parse(body) as Record<string, unknown>;
  json.model = model;
  return JSON.stringify(json);
}
