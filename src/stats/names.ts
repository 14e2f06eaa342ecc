/**
 * Counter record and field names. The ones a request needs are built once per (provider, model)
 * and hour rather than per request: besides the string building, a fresh string costs a hash
 * computation on every Map or property lookup, while a kept one has its hash cached.
 * @module
 */
import { statsKeys } from "../store/key_names.ts";

/** Record names (store/key_names.ts owns them); the field layout of each is documented at its writer in recorder.ts. */
export const statsRecord = statsKeys;

/**
 * A model name as statistics keep it: clients choose model names, and public pages show them,
 * so only name-like characters survive (others become "_"), at most 200 of them.
 */
export function statsModelName(model: string): string {
  return model.slice(0, 200).replace(/[^\w.:/@+-]/g, "_");
}

let cachedHour = -1;
let cached: [string, string] = ["", ""];

/** `YYYYMMDD` and `HH` of an epoch-ms time, in UTC (memoized per hour: it runs per request). */
export function dayAndHour(at: number): [string, string] {
  const hour = Math.floor(at / 3_600_000);
  if (hour !== cachedHour) {
    const iso = new Date(at).toISOString();
    cached = [iso.slice(0, 10).replaceAll("-", ""), iso.slice(11, 13)];
    cachedHour = hour;
  }
  return cached;
}

/** Field names "<metric><suffix>" of one counter group. */
export interface Fields {
  requests: string;
  success: string;
  failure: string;
  clientErrors: string;
  /** Requests whose client left before the answer was complete (HTTP 499). */
  clientClosed: string;
  promptTokens: string;
  completionTokens: string;
}

/** Every name one counted request needs. */
export interface RequestNames {
  global: string;
  models: string;
  day: string;
  dayModels: string;
  /** "<metric>|<model>" fields, and the day-model field "requests|<model>"; absent without a model. */
  model?: Fields & { day: string };
  /** The day record's "<metric>|<HH>" fields. */
  hour: { requests: string; success: string; failure: string; clientErrors: string; clientClosed: string; tokens: string };
}

const fields = (suffix: string): Fields => ({
  requests: `requests${suffix}`,
  success: `success${suffix}`,
  failure: `failure${suffix}`,
  clientErrors: `clientErrors${suffix}`,
  clientClosed: `clientClosed${suffix}`,
  promptTokens: `promptTokens${suffix}`,
  completionTokens: `completionTokens${suffix}`,
});

/** The fields of the global, token and key records. */
export const PLAIN_FIELDS: Fields = fields("");

/**
 * Most entries in each cache below (models per provider, client tokens, keys per provider),
 * well under 1 KB each; a cache that fills up starts over.
 */
export const MAX_CACHED_NAMES = 10_000;

/** Caches of the names above; see the module doc. */
export class StatsNames {
  #hour = -1;
  #requests = new Map<string, Map<string, RequestNames>>();
  #tokens = new Map<string, string>();
  #keys = new Map<string, Map<string, string>>();

  /** The names for a request to `provider` for `model` (unsanitized) at `at`. */
  request(provider: string, model: string | undefined, at: number): RequestNames {
    const hour = Math.floor(at / 3_600_000);
    if (hour !== this.#hour) (this.#hour = hour, this.#requests.clear());
    let byModel = this.#requests.get(provider);
    if (!byModel) this.#requests.set(provider, byModel = new Map());
    let n = byModel.get(model ?? "");
    if (!n) {
      const [day, hh] = dayAndHour(at);
      const name = model === undefined ? "" : statsModelName(model);
      n = {
        global: statsRecord.global(provider),
        models: statsRecord.models(provider),
        day: statsRecord.day(provider, day),
        dayModels: statsRecord.dayModels(provider, day),
        model: name ? { ...fields(`|${name}`), day: `requests|${name}` } : undefined,
        hour: {
          requests: `requests|${hh}`, success: `success|${hh}`, failure: `failure|${hh}`,
          clientErrors: `clientErrors|${hh}`, clientClosed: `clientClosed|${hh}`, tokens: `tokens|${hh}`,
        },
      };
      if (byModel.size >= MAX_CACHED_NAMES) byModel.clear();
      byModel.set(model ?? "", n);
    }
    return n;
  }

  /** A client token's record name. */
  token(id: string): string {
    let name = this.#tokens.get(id);
    if (name === undefined) {
      if (this.#tokens.size >= MAX_CACHED_NAMES) this.#tokens.clear();
      this.#tokens.set(id, name = statsRecord.token(id));
    }
    return name;
  }

  /** A key's record name. */
  key(provider: string, id: string): string {
    let byId = this.#keys.get(provider);
    if (!byId) this.#keys.set(provider, byId = new Map());
    let name = byId.get(id);
    if (name === undefined) {
      if (byId.size >= MAX_CACHED_NAMES) byId.clear();
      byId.set(id, name = statsRecord.key(provider, id));
    }
    return name;
  }
}
