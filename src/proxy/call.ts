/**
 * The proxy's vocabulary: what it needs from the pool (ProxyDeps), one client request on its way
 * (ProxyCall), and the retry knobs. Shared by failover.ts and the modules it hands parts to.
 * @module
 */
import type { KeyPool } from "../keys/key_pool.ts";
import type { RequestTrace } from "../logs/trace.ts";
import type { ClassifyRules, Endpoint, Provider } from "../providers/types.ts";
import type { Metrics } from "../stats/metrics.ts";
import type { RequestOutcome, StatsRecorder } from "../stats/recorder.ts";
import type { ResponseLimits } from "./body.ts";
import type { ParsedRequest } from "./request.ts";
import type { ClientGone } from "./server_link.ts";
import type { Transport } from "./transport.ts";
import type { Usage } from "./usage.ts";

/** Retry and timeout knobs of the proxy. */
export interface FailoverRules extends ClassifyRules {
  /** Upstream attempts per client request, each with a different key. */
  maxAttempts: number;
  /** How long to wait for upstream response headers before trying the next key. */
  firstByteTimeoutMs: number;
  /** How long a key that answered "model not found" is not asked for that model again. */
  modelUnavailableMs: number;
}

/** A key's "model not found" answer, kept to be the client's if no other key has the model. */
export interface ModelMissing {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer>;
}

/** What the proxy needs from the pool. */
export interface ProxyDeps {
  transport: Transport;
  rules: FailoverRules;
  limits: ResponseLimits;
  stats: StatsRecorder;
  metrics: Metrics;
  now: () => number;
  onError(message: string): void;
}

/** One client request on its way to a provider. */
export interface ProxyCall {
  provider: Provider;
  keys: KeyPool;
  endpoint: Endpoint;
  request: ParsedRequest;
  headers: Headers;
  search: string;
  /** Tells when the client goes away: the upstream request in flight is then aborted. */
  onClientGone?: ClientGone;
  tokenId?: string;
  /** The model alias the client asked for, when `request.model` is one of its targets (statistics count both). */
  alias?: string;
  /**
   * Another alias target follows: when no key here can serve, the error is thrown uncounted (the
   * next target's call counts the request, once).
   */
  fallsThrough?: boolean;
  /** Told the usage of the finished request (for token limits). */
  onUsage?(usage: Usage): void;
  /** Called when the request is over — for streams, when the stream ends, after the handler returned. */
  onFinish?(): void;
  /** `performance.now()` when the pool got the request, for `x-pool-overhead-ms`. */
  startedAt?: number;
  /** Milliseconds spent waiting on upstream so far (filled in here). */
  upstreamMs?: number;
  /** The request's id, sent back as `x-request-id`. */
  requestId?: string;
  /** The request's log record under way: told each attempt and the end of the answer. */
  trace?: RequestTrace;
  /** Set here once the client has gone away: what fails after that is not the upstream's doing. */
  clientClosed?: boolean;
}

/**
 * Counts a finished request (and its answering key's attempt); `sent` is what the answer carried,
 * for the hang-up estimate and the request log.
 */
export type Finish = (
  outcome: RequestOutcome,
  usage?: Usage,
  keyId?: string,
  sent?: { lines?: number; bytes?: number },
) => void;
