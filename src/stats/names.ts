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
  hour: {
    requests: string;
    success: string;
    failure: string;
    clientErrors: string;
    clientClosed: string;
    tokens: string;
  };
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
 * Most model names, per provider, that get their own statistics fields, admitted when a request
 * for the name first succeeds upstream. Clients choose model names, and every name adds fields to
 * the provider's model record (and to each day's), which every statistics read has to parse:
 * 57,000 made-up names made the public stats pages block for over a second. Names admitted only
 * on a 2xx cannot be filled with made-up ones (real upstreams answer those 404 or 400), so they
 * cannot push real models out. Other names are counted under {@link OTHER_MODEL}.
 */
export const MAX_MODEL_NAMES = 200;
/**
 * Most names the pool's keys are known to serve (from health checks' model lists), per provider:
 * those get their own fields even when the first-come names above are used up.
 */
export const MAX_SERVED_NAMES = 1000;
/** Where requests for models beyond the bound are counted. */
export const OTHER_MODEL = "other";

/**
 * Which model names get their own statistics fields, per provider: names the keys serve, then
 * the first {@link MAX_MODEL_NAMES} others whose requests succeeded upstream (per instance:
 * instances sharing a store may each admit different ones, each seeing the names stored when it
 * loaded).
 */
export class ModelNames {
  #admitted = new Map<string, Set<string>>();
  #served = new Map<string, Set<string>>();

  /**
   * The statistics name for a sanitized model name. `succeeded`: this request for it got a 2xx
   * upstream, which admits a new name (while there is room).
   */
  name(provider: string, model: string, succeeded: boolean): string {
    const served = this.#served.get(provider);
    if (served?.has(model)) return model;
    let admitted = this.#admitted.get(provider);
    if (!admitted) this.#admitted.set(provider, admitted = new Set());
    if (admitted.has(model)) return model;
    if (!succeeded || admitted.size >= MAX_MODEL_NAMES) return OTHER_MODEL;
    admitted.add(model);
    return model;
  }

  /**
   * Admits names already stored (so a restart keeps counting them), up to the bound: stored
   * names had their own fields, so a request for each once succeeded.
   */
  admit(provider: string, models: Iterable<string>): void {
    for (const m of models) {
      if ((this.#admitted.get(provider)?.size ?? 0) >= MAX_MODEL_NAMES) return;
      if (m !== OTHER_MODEL) this.name(provider, m, true);
    }
  }

  /** Names the provider's keys are known to serve (raw upstream ids), up to their own bound. */
  served(provider: string, models: Iterable<string>): void {
    let set = this.#served.get(provider);
    if (!set) this.#served.set(provider, set = new Set());
    for (const m of models) {
      if (set.size >= MAX_SERVED_NAMES) return;
      set.add(statsModelName(m));
    }
  }
}

/**
 * Most entries in each cache below (models per provider, client tokens, keys per provider),
 * well under 1 KB each; a cache that fills up starts over.
 */
export const MAX_CACHED_NAMES = 10_000;

/** Caches of the names above; see the module doc. */
export class StatsNames {
  /** Which model names get fields of their own. */
  readonly models = new ModelNames();
  #hour = -1;
  /** Per provider: names by client model name, only for names with fields of their own. */
  #requests = new Map<string, Map<string, RequestNames>>();
  /** Per provider: the names of requests counted under {@link OTHER_MODEL} (rebuilt each hour). */
  #other = new Map<string, RequestNames>();
  #tokens = new Map<string, string>();
  #keys = new Map<string, Map<string, string>>();

  /**
   * The names for a request to `provider` for `model` (unsanitized) at `at`; `succeeded`: it got
   * a 2xx upstream (see {@link ModelNames.name}). A name without fields of its own is looked up
   * again on each request, so its first success admits it.
   */
  request(provider: string, model: string | undefined, at: number, succeeded: boolean): RequestNames {
    const hour = Math.floor(at / 3_600_000);
    if (hour !== this.#hour) (this.#hour = hour, this.#requests.clear(), this.#other.clear());
    let byModel = this.#requests.get(provider);
    if (!byModel) this.#requests.set(provider, byModel = new Map());
    let n = byModel.get(model ?? "");
    if (!n) {
      const [day, hh] = dayAndHour(at);
      const name = model === undefined ? "" : this.models.name(provider, statsModelName(model), succeeded);
      if (name === OTHER_MODEL && model !== OTHER_MODEL) {
        const other = this.#other.get(provider);
        if (other) return other;
      }
      n = {
        global: statsRecord.global(provider),
        models: statsRecord.models(provider),
        day: statsRecord.day(provider, day),
        dayModels: statsRecord.dayModels(provider, day),
        model: name ? { ...fields(`|${name}`), day: `requests|${name}` } : undefined,
        hour: {
          requests: `requests|${hh}`,
          success: `success|${hh}`,
          failure: `failure|${hh}`,
          clientErrors: `clientErrors|${hh}`,
          clientClosed: `clientClosed|${hh}`,
          tokens: `tokens|${hh}`,
        },
      };
      if (name === OTHER_MODEL && model !== OTHER_MODEL) {
        this.#other.set(provider, n);
        return n;
      }
      if (byModel.size >= MAX_CACHED_NAMES) byModel.clear();
      byModel.set(model ?? "", n);
    }
    return n;
  }

  /** Names a provider's keys serve; cached names are rebuilt so they get their own fields now. */
  served(provider: string, models: Iterable<string>): void {
    this.models.served(provider, models);
    this.#requests.get(provider)?.clear();
    this.#other.delete(provider);
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
