/**
 * The one error type of the pool. Every failure a client can see is a {@link PoolError}
 * and leaves as an OpenAI-shaped body `{"error": {"message", "type", "code"}}`, shaped here
 * and nowhere else (see `app.onError` in pool.ts).
 * @module
 */

/** OpenAI error `type` values the pool answers with. */
export type PoolErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "upstream_error"
  | "server_error";

const TYPE_BY_STATUS: Record<number, PoolErrorType> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  405: "invalid_request_error",
  413: "invalid_request_error",
  415: "invalid_request_error",
  429: "rate_limit_error",
  502: "upstream_error",
  503: "upstream_error",
  504: "upstream_error",
};

/**
 * Most characters of a client's value an error message repeats. The value (a provider, a path,
 * a field name) can be as long as a URL or a body; repeated whole, a request of that size made an
 * answer as large, on public routes too.
 */
export const MAX_ECHO = 64;

/** A client's value as an error message quotes it: JSON, cut after {@link MAX_ECHO} characters with "…". */
export function echoed(value: unknown): string {
  if (typeof value === "string") {
    return value.length > MAX_ECHO ? `${JSON.stringify(value.slice(0, MAX_ECHO))}…` : JSON.stringify(value);
  }
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}…` : text;
}

/** A client's text in an error message without quotes (a path, a method), cut like {@link echoed}. */
export const echoedText = (text: string): string => text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}…` : text;

/** Options of {@link PoolError} beyond status, code and message. */
export interface PoolErrorOptions {
  /** Overrides the type derived from the status. */
  type?: PoolErrorType;
  /** Extra response headers, e.g. `Retry-After`. */
  headers?: Record<string, string>;
}

/**
 * An error with an HTTP status and a stable machine-readable `code`.
 * @example
 * throw new PoolError(400, "invalid_json", "Request body is not valid JSON");
 */
export class PoolError extends Error {
  readonly status: number;
  readonly code: string;
  readonly type: PoolErrorType;
  readonly headers: Record<string, string>;
  /** The request's id, when the route gave it one: shown in the body and as `x-request-id`. */
  requestId?: string;

  constructor(status: number, code: string, message: string, options: PoolErrorOptions = {}) {
    super(message);
    this.name = "PoolError";
    this.status = status;
    this.code = code;
    this.type = options.type ?? TYPE_BY_STATUS[status] ?? (status >= 500 ? "server_error" : "invalid_request_error");
    this.headers = options.headers ?? {};
  }

  /** The OpenAI-shaped JSON body. */
  toJSON(): { error: { message: string; type: string; code: string; request_id?: string } } {
    const error = { message: this.message, type: this.type, code: this.code };
    return { error: this.requestId === undefined ? error : { ...error, request_id: this.requestId } };
  }

  /** A ready `Response` with the JSON body and any extra headers. */
  toResponse(): Response {
    return new Response(JSON.stringify(this.toJSON()), {
      status: this.status,
      headers: {
        "content-type": "application/json; charset=utf-8",
        ...this.headers,
        ...(this.requestId === undefined ? {} : { "x-request-id": this.requestId }),
      },
    });
  }
}

/** Shorthand for a 400 with code `invalid_request`. */
export function badRequest(message: string, code = "invalid_request"): PoolError {
  return new PoolError(400, code, message);
}
