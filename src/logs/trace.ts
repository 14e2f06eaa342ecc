/**
 * A request's log record while the request is under way. Two parties complete it: the route
 * knows the status the client got (or the error it threw), the proxy knows when the answer is
 * over (a stream ends after the route returned). The record is handed on when both have spoken.
 * @module
 */
import type { LogAttempt, LogRecord } from "./types.ts";

/** Most attempts kept per record (the pool's maxAttempts is far lower; a bound all the same). */
const MAX_ATTEMPTS = 16;
/** Longest reason text kept per attempt. */
const MAX_REASON = 200;

/** What the proxy reports when the answer is over. */
export interface TraceEnd {
  promptTokens?: number;
  completionTokens?: number;
  estimated?: boolean;
  bytes?: number;
  /** How the request ended, as statistics count it (a stream can fail after its 200). */
  outcome?: string;
}

/** Error codes of answers that failed after their headers went out with a 2xx. */
const LATE_ERRORS: Record<string, string> = { failure: "stream_interrupted", client_closed: "client_closed" };

export class RequestTrace {
  readonly record: LogRecord;
  #startedAt: number;
  #clock: () => number;
  #emit: (r: LogRecord) => void;
  #responded = false;
  #ended = false;
  #emitted = false;
  #late: string | undefined;

  /** `clock` is a monotonic milliseconds clock (performance.now), `record.t` the wall time. */
  constructor(
    record: Omit<LogRecord, "attempts" | "status" | "ms">,
    clock: () => number,
    emit: (r: LogRecord) => void,
  ) {
    this.record = { ...record, attempts: [], status: 0, ms: 0 };
    this.#clock = clock;
    this.#startedAt = clock();
    this.#emit = emit;
  }

  /** One upstream attempt. */
  attempt(a: LogAttempt): void {
    if (this.record.attempts.length >= MAX_ATTEMPTS) return;
    if (a.reason !== undefined && a.reason.length > MAX_REASON) a = { ...a, reason: a.reason.slice(0, MAX_REASON) };
    this.record.attempts.push(a);
  }

  /** Corrects the last attempt: its headers were fine, its body was not. */
  amendLast(change: Pick<LogAttempt, "outcome" | "reason">): void {
    const last = this.record.attempts.at(-1);
    if (last) Object.assign(last, change);
  }

  /** The model sent upstream, when it is not the one asked for. */
  target(model: string): void {
    if (model !== this.record.model) this.record.target = model;
  }

  /** The route answered with `status` (headers ready); `error` is the pool's code if it failed. */
  responded(status: number, error?: string): void {
    if (this.#responded) return;
    this.#responded = true;
    this.record.status = status;
    if (error !== undefined) this.record.error = error;
    this.record.ttfbMs = round(this.#clock() - this.#startedAt);
    this.#maybeEmit();
  }

  /** The answer is over (non-stream: read; stream: ended, failed or cancelled). */
  ended(end: TraceEnd = {}): void {
    if (this.#ended) return;
    this.#ended = true;
    const r = this.record;
    if (end.promptTokens !== undefined) r.promptTokens = end.promptTokens;
    if (end.completionTokens !== undefined) r.completionTokens = end.completionTokens;
    if (end.estimated) r.estimated = true;
    if (end.bytes !== undefined) r.bytes = end.bytes;
    this.#late = end.outcome === undefined ? undefined : LATE_ERRORS[end.outcome];
    this.#maybeEmit();
  }

  /** Whether `ended()` was called. */
  get isEnded(): boolean {
    return this.#ended;
  }

  #maybeEmit(): void {
    if (this.#emitted || !this.#responded || !this.#ended) return;
    this.#emitted = true;
    // A stream that broke or lost its client after a 2xx: the status stays what the client got,
    // the error code says what happened.
    if (this.record.error === undefined && this.record.status < 400 && this.#late) this.record.error = this.#late;
    this.record.ms = round(this.#clock() - this.#startedAt);
    this.#emit(this.record);
  }
}

const round = (ms: number): number => Math.round(ms * 10) / 10;
