/**
 * Usage statistics counted in memory and flushed to the store in batches, so the request path
 * never waits on storage. Reads add the not-yet-flushed deltas, so an admin sees a request the
 * moment it ends.
 * @module
 */
import {
  type CounterBatch,
  type CounterDelta,
  type Counters,
  type CounterSink,
  mergeDelta,
} from "../store/counters.ts";
import { latencyBucket, latencyField } from "./latency.ts";
import { dayAndHour, type Fields, PLAIN_FIELDS, StatsNames, statsRecord } from "./names.ts";

/**
 * How a client request ended. `client_closed`: the client left before its answer was complete
 * (HTTP 499); the upstream had the request, so it counts, but no key is blamed.
 */
export type RequestOutcome = "success" | "failure" | "client_error" | "client_closed";

/** The counter field of each outcome. */
const OUTCOME_FIELD = {
  success: "success",
  failure: "failure",
  client_error: "clientErrors",
  client_closed: "clientClosed",
} as const;
type OutcomeField = (typeof OUTCOME_FIELD)[RequestOutcome];

/** One finished client request. */
export interface RequestEvent {
  provider: string;
  model?: string;
  /** The model alias the client asked for; counted as a model of the provider too. */
  alias?: string;
  tokenId?: string;
  /** The key that answered, when one did: its token usage is counted too. */
  keyId?: string;
  outcome: RequestOutcome;
  promptTokens?: number;
  completionTokens?: number;
  /** The token counts are the pool's estimate (the client left before the upstream reported usage). */
  estimated?: boolean;
}

export { dayAndHour, MAX_MODEL_NAMES, OTHER_MODEL, statsModelName, statsRecord } from "./names.ts";

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
  #names = new StatsNames();
  #flushes = 0;

  constructor(sink: CounterSink, now: () => number) {
    this.#sink = sink;
    this.#now = now;
  }

  /** Counts a finished client request. */
  request(e: RequestEvent): void {
    const at = this.#now();
    const prompt = e.promptTokens ?? 0;
    const completion = e.completionTokens ?? 0;
    const outcome = OUTCOME_FIELD[e.outcome];
    const n = this.#names.request(e.provider, e.model, at, e.outcome === "success");
    // global and token records: requests, <outcome>, promptTokens, completionTokens, lastUsed,
    // and estimatedTokens: the part of the token counts that is the pool's estimate
    const g = this.#count(n.global, PLAIN_FIELDS, outcome, prompt, completion);
    g.max.lastUsed = at;
    if (e.estimated) add(g, "estimatedTokens", prompt + completion);
    if (e.tokenId) {
      const t = this.#count(this.#names.token(e.tokenId), PLAIN_FIELDS, outcome, prompt, completion);
      t.max.lastUsed = at;
      if (e.estimated) add(t, "estimatedTokens", prompt + completion);
    }
    // model record: the same metrics as "<metric>|<model>" fields; day-model: "requests|<model>"
    if (n.model) {
      this.#count(n.models, n.model, outcome, prompt, completion);
      add(this.#delta(n.dayModels), n.model.day, 1);
    }
    // An alias is a name the admin configured, not one a client made up: it has fields of its own.
    const alias = e.alias === undefined ? undefined : this.#names.request(e.provider, e.alias, at, true).model;
    if (alias) {
      this.#count(n.models, alias, outcome, prompt, completion);
      add(this.#delta(n.dayModels), alias.day, 1);
    }
    // day record: "<metric>|<HH>" for requests, <outcome>, tokens
    const h = this.#delta(n.day);
    add(h, n.hour.requests, 1);
    add(h, n.hour[outcome], 1);
    add(h, n.hour.tokens, prompt + completion);
    if (e.keyId) {
      const k = this.#delta(this.#names.key(e.provider, e.keyId));
      add(k, "promptTokens", prompt);
      add(k, "completionTokens", completion);
    }
  }

  #count(record: string, f: Fields, outcome: OutcomeField, prompt: number, completion: number): CounterDelta {
    const d = this.#delta(record);
    add(d, f.requests, 1);
    add(d, f[outcome], 1);
    add(d, f.promptTokens, prompt);
    add(d, f.completionTokens, completion);
    return d;
  }

  /**
   * Model names the provider's keys are known to serve (a health check read their model lists):
   * they get statistics fields of their own ahead of client-chosen names.
   */
  served(provider: string, models: Iterable<string>): void {
    this.#names.served(provider, models);
  }

  /** Reads the model names already stored, so a restarted instance keeps counting under them. */
  async load(providers: string[]): Promise<void> {
    const stored = await this.#sink.read(providers.map((p) => statsRecord.models(p)));
    providers.forEach((p, i) => {
      const names: string[] = [];
      for (const f in stored[i]) if (f.startsWith("requests|")) names.push(f.slice(9));
      // The busiest first: after a restart over a store from before the bound, those stay.
      names.sort((a, b) => (stored[i][`requests|${b}`] ?? 0) - (stored[i][`requests|${a}`] ?? 0));
      this.#names.models.admit(p, names);
    });
  }

  /**
   * Counts one upstream attempt with a key, once its outcome is known (for an answer the key
   * gave, when its body is through): requests, success, failure, clientErrors, clientClosed,
   * lastUsed (`request()` adds the key's promptTokens and completionTokens when it answered).
   */
  attempt(provider: string, keyId: string, outcome: RequestOutcome): void {
    const k = this.#delta(this.#names.key(provider, keyId));
    add(k, "requests", 1);
    add(k, OUTCOME_FIELD[outcome], 1);
    k.max.lastUsed = this.#now();
  }

  /**
   * Counts how a logged request went, for the dashboard's charts: its duration in the day
   * record's latency histogram and, when it failed (a 4xx/5xx, or a stream that broke after its
   * 200), its error code in the day's error record. `code` is one of the pool's own codes (a
   * fixed set) or `upstream_<status>`.
   */
  finished(provider: string, at: number, ms: number, status: number, code?: string): void {
    const [day, hh] = dayAndHour(at);
    add(this.#delta(statsRecord.day(provider, day)), latencyField(latencyBucket(ms), hh), 1);
    if (status >= 400 || code !== undefined) {
      const reason = code ?? `upstream_${Math.min(999, Math.max(100, Math.trunc(status)))}`;
      add(this.#delta(statsRecord.dayErrors(provider, day)), `${reason}|${hh}`, 1);
    }
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

  /** Completed flushes so far: a view cached under an older number may miss written counts. */
  get flushes(): number {
    return this.#flushes;
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
    this.#flushing = this.#sink.apply(batch).then(() => {
      this.#flushes++;
    }, (err) => {
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
