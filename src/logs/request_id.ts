/**
 * Request ids: the client's own `x-request-id` when it is sane, else a generated one. The id
 * goes back on the answer, into error bodies and into the request log.
 * @module
 */

/**
 * What a client-sent id may look like: at most 128 characters of a conservative set, so it can
 * be echoed in a header, a JSON body and a log without escaping surprises.
 */
const CLIENT_ID = /^[A-Za-z0-9._:@+=-]{1,128}$/;

/** The id for a request: the client's `x-request-id` if it is sane, else a new UUID. */
export function requestIdFor(headers: Headers): string {
  const sent = headers.get("x-request-id");
  return sent !== null && CLIENT_ID.test(sent) ? sent : crypto.randomUUID();
}
