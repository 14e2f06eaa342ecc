/**
 * The pool's own model list: `GET /v1/models` and `/api/tags` answer the union of what the
 * provider's keys list (from their probes) plus the model aliases, rather than one key's list.
 * Built when a list changed, not per request.
 * @module
 */
import type { WireFormat } from "../providers/types.ts";
import type { KeyPool } from "./key_pool.ts";

/** Whether an endpoint is a model-list route the pool can answer itself. */
export function isModelList(method: string, path: string): boolean {
  return method === "GET" && (path.endsWith("/models") || path === "/api/tags");
}

/** One answer per (pool, format), rebuilt when the pool's lists change. Bound: providers × 2. */
export class ModelCatalog {
  #cache = new Map<string, { version: number; body: string }>();
  #aliases: string[];

  constructor(aliases: string[] = []) {
    this.#aliases = [...aliases].sort();
  }

  /** The JSON body, or undefined when no key's list is known (the upstream is asked then; see {@link withAliases}). */
  body(pool: KeyPool, format: WireFormat, createdSeconds: number): string | undefined {
    if (!pool.models.known) return undefined;
    const cacheKey = `${pool.provider}\n${format.id}`;
    const hit = this.#cache.get(cacheKey);
    if (hit && hit.version === pool.models.version) return hit.body;
    // Aliases are served on the `/v1` routes, not on Ollama's native ones.
    const native = format.id === "ollama_native";
    const names = [...new Set([...pool.models.union(), ...(native ? [] : this.#aliases)])];
    const body = native
      ? JSON.stringify({
        models: names.map((name) => ({
          name,
          model: name,
          modified_at: new Date(createdSeconds * 1000).toISOString(),
          size: 0,
          digest: "",
          details: {},
        })),
      })
      : JSON.stringify({
        object: "list",
        data: names.map((id) => ({ id, object: "model", created: createdSeconds, owned_by: pool.provider })),
      });
    this.#cache.set(cacheKey, { version: pool.models.version, body });
    return body;
  }
}

/**
 * An upstream's OpenAI model list with the aliases added (when the keys' own lists are not known
 * yet). Any other shape is passed back unchanged.
 */
export function withAliases(
  body: Uint8Array,
  aliases: string[],
  owner: string,
  createdSeconds: number,
): Uint8Array<ArrayBuffer> | undefined {
  try {
    const json = JSON.parse(new TextDecoder().decode(body)) as { data?: unknown };
    if (!Array.isArray(json.data)) return undefined;
    const have = new Set(json.data.map((m) => (m as { id?: unknown })?.id));
    for (const id of aliases) {
      if (!have.has(id)) json.data.push({ id, object: "model", created: createdSeconds, owned_by: owner });
    }
    return new TextEncoder().encode(JSON.stringify(json));
  } catch {
    return undefined;
  }
}
