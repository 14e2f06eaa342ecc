/**
 * Usage statistics counted in memory and flushed to the store in batches, so the request path
 * never waits on storage. Reads add the not-yet-flushed deltas, so an admin sees a request the
 * moment it ends.
 * @module
 */
import { type CounterBatch, type CounterDelta, type Counters, type CounterSink, mergeDelta } from "../store/counters.ts";

/** How a client request ended. */
export type RequestOutcome = "success" | "failure" | "client_error";

/** One finished client request. */
export interface RequestEvent {
  provider: string;
  model?: string;
  tokenId?: string;
  /** The key that answered, when one did: its token usage is counted too. */
  keyId?: string;
  outcome: RequestOutcome;
  promptTokens?: number;
  completionTokens?: number;
}

/** Record names; the field layout of each is documented at its writer below. */
export const statsRecord = {
  global: (provider: string): string => `stats:global:${provider}`,
  models: (provider: string): string => `stats:model:${provider}`,
  day: (provider: string, day: string): string => `stats:hour:${provider}:${day}`,
  dayModels: (provider: string, day: string): string => `stats:daymodel:${provider}:${day}`,
  token: (tokenId: string): string => `stats:token:${tokenId}`,
  key: (provider: string, keyId: string): string => `stats:key:${provider}:${keyId}`,
};

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

/**
 * Most distinct counter records held unflushed (about 10 MB). Normally a flush interval touches
 * far fewer; during a storage outage this bounds memory, and increments to records beyond it are
 * dropped and counted in {@link StatsRecorder.dropped} (existing records keep counting).
 */
export const MAX_PENDING_RECORDS = 20_000;

/** Counts requests per provider, model, client token, hour and key. */
export class StatsRecorder {
  #sink: CounterSink;
  #now: () => number;
  #pending: CounterBatch = new Map();
  #flushing: Promise<void> | undefined;
  #dropped = 0;

  constructor(sink: CounterSink, now: () => number) {
    this.#sink = sink;
    this.#now = now;
  }

  /** Counts a finished client request. */
  request(e: RequestEvent): void {
    const at = this.#now();
    const prompt = e.promptTokens ?? 0;
    const completion = e.completionTokens ?? 0;
    const outcome = e.outcome === "client_error" ? "clientErrors" : e.outcome;
    // global and token records: requests, <outcome>, promptTokens, completionTokens, lastUsed
    this.#countRequest(statsRecord.global(e.provider), "", outcome, prompt, completion).max.lastUsed = at;
    if (e.tokenId) this.#countRequest(statsRecord.token(e.tokenId), "", outcome, prompt, completion).max.lastUsed = at;
    // model record: the same metrics as "<metric>|<model>" fields; day-model: "requests|<model>"
    const [day, hour] = dayAndHour(at);
    const model = e.model === undefined ? undefined : statsModelName(e.model);
    if (model) {
      this.#countRequest(statsRecord.models(e.provider), `|${model}`, outcome, prompt, completion);
      add(this.#delta(statsRecord.dayModels(e.provider, day)), `requests|${model}`, 1);
    }
    // day record: "<metric>|<HH>" for requests, <outcome>, tokens
    const h = this.#delta(statsRecord.day(e.provider, day));
    add(h, `requests|${hour}`, 1);
    add(h, `${outcome}|${hour}`, 1);
    add(h, `tokens|${hour}`, prompt + completion);
    if (e.keyId) {
      const k = this.#delta(statsRecord.key(e.provider, e.keyId));
      add(k, "promptTokens", prompt);
      add(k, "completionTokens", completion);
    }
  }

  #countRequest(record: string, suffix: string, outcome: string, prompt: number, completion: number): CounterDelta {
    const d = this.#delta(record);
    add(d, `requests${suffix}`, 1);
    add(d, `${outcome}${suffix}`, 1);
    add(d, `promptTokens${suffix}`, prompt);
    add(d, `completionTokens${suffix}`, completion);
    return d;
  }

  /**
   * Counts one upstream attempt with a key: requests, success, failure, clientErrors, lastUsed
   * (`request()` adds the key's promptTokens and completionTokens when it answered).
   */
  attempt(provider: string, keyId: string, outcome: RequestOutcome): void {
    const k = this.#delta(statsRecord.key(provider, keyId));
    add(k, "requests", 1);
    add(k, outcome === "client_error" ? "clientErrors" : outcome, 1);
    k.max.lastUsed = this.#now();
  }

  /** Stored counters plus the pending deltas. */
  async read(records: string[]): Promise<Counters[]> {
    const stored = await this.#sink.read(records);
    return stored.map((c, i) => {
      const d = this.#pending.get(records[i]);
      return d ? mergeDelta(c, d) : c;
    });
  }

  /** Number of records with unflushed deltas. */
  get pendingRecords(): number {
    return this.#pending.size;
  }

  /** Increments lost because the pending buffer was full (a long storage outage). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Writes pending deltas; a failed write puts them back for the next flush. */
  flush(): Promise<void> {
    if (this.#flushing) return this.#flushing.then(() => this.#pending.size ? this.flush() : undefined);
    if (this.#pending.size === 0) return Promise.resolve();
    const batch = this.#pending;
    this.#pending = new Map();
    this.#flushing = this.#sink.apply(batch).catch((err) => {
      for (const [k, d] of batch) mergeInto(this.#delta(k), d);
      throw err;
    }).finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  #delta(record: string): CounterDelta {
    let d = this.#pending.get(record);
    if (!d) {
      d = { add: {}, max: {} };
      if (this.#pending.size < MAX_PENDING_RECORDS) this.#pending.set(record, d);
      else this.#dropped++; // written into a delta nobody keeps
    }
    return d;
  }
}

function add(d: CounterDelta, field: string, n: number): void {
  if (n !== 0) d.add[field] = (d.add[field] ?? 0) + n;
}

function mergeInto(into: CounterDelta, d: CounterDelta): void {
  for (const f in d.add) add(into, f, d.add[f]);
  for (const f in d.max) into.max[f] = Math.max(into.max[f] ?? 0, d.max[f]);
}
