/** What the request log keeps about one proxied request. Never bodies, prompts or secrets. @module */

/** One upstream attempt of a request. */
export interface LogAttempt {
  /** The key's id (a hash; never the secret). */
  key: string;
  /**
   * How the pool judged the attempt: ok, cooldown, failure, client-error; client_closed when the
   * client left while it was under way. An attempt whose body broke after good headers is
   * amended to cooldown.
   */
  outcome: string;
  /** The upstream's status, when it answered. */
  status?: number;
  /** Milliseconds until the upstream's headers (or the error). */
  ms: number;
  /** Why the attempt failed, in the pool's words (no upstream body text). */
  reason?: string;
}

/** One record of the request log. Short field names: a week of traffic is kept. */
export interface LogRecord {
  /** When the pool got the request, epoch ms. */
  t: number;
  /** The request id (`x-request-id`). */
  id: string;
  provider: string;
  /** The route served, e.g. `/v1/chat/completions`. */
  route: string;
  /** The route's wire format. */
  dialect: string;
  /** The model the client asked for. */
  model?: string;
  /** The model sent upstream, when it differs (an alias). */
  target?: string;
  /** Client token id and name. */
  token?: string;
  tokenName?: string;
  /** The registered user the token belongs to. */
  user?: string;
  /** Client address, when the runtime tells it. */
  ip?: string;
  attempts: LogAttempt[];
  /** Status the client got. */
  status: number;
  /**
   * The pool's error code when the request failed: a 4xx/5xx's code (`upstream_<status>` for an
   * upstream's own 4xx), or `stream_interrupted` / `client_closed` for an answer that failed
   * after its 2xx headers went out (the status stays the one the client got).
   */
  error?: string;
  /** Milliseconds until the answer's headers were ready for the client. */
  ttfbMs?: number;
  /** Milliseconds until the answer was complete (streams: until the stream ended). */
  ms: number;
  promptTokens?: number;
  completionTokens?: number;
  /** The token counts are the pool's estimate (the upstream reported none). */
  estimated?: boolean;
  stream: boolean;
  /** Bytes of the answer's body as the upstream sent them (after decompression). */
  bytes?: number;
}

/** Filters of a log query; all optional, combined with AND. */
export interface LogFilter {
  token?: string;
  key?: string;
  model?: string;
  provider?: string;
  /** An exact status (429) or a class (`4xx`). */
  status?: string;
  /** Inclusive bounds, epoch ms. */
  since?: number;
  until?: number;
}
