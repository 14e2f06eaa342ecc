/**
 * Upstream calls that are not proxied requests — usage polling, the mail webhook, Turnstile
 * verification — go through `ofetch` over the pool's own transport: it brings the timeout, JSON
 * request bodies and non-2xx-as-error. Answers are read here within a small bound rather than by
 * ofetch (which would hold a body of any size), since they come from servers the pool does not
 * control.
 * @module
 */
import { createFetch, type FetchOptions } from "ofetch";
import type { FetchLike } from "./attempt.ts";
import { readBody } from "./body.ts";

/** Largest answer read from such a call; real ones are a few hundred bytes. */
export const MAX_SIDE_ANSWER_BYTES = 64 * 1024;

const decoder = new TextDecoder();

/** A side-call client over `fetch`: no retries, `timeoutMs` per call. */
export function sideFetch(fetch: FetchLike, timeoutMs: number) {
  const $fetch = createFetch({ fetch: fetch as typeof globalThis.fetch, defaults: { retry: 0, timeout: timeoutMs } });
  return {
    /**
     * Calls `url` and returns its JSON answer (undefined when the body is not JSON). Throws on a
     * network error, a timeout, a non-2xx status (unless `acceptErrors`), or an answer over
     * {@link MAX_SIDE_ANSWER_BYTES}.
     */
    async json(
      url: string,
      options: FetchOptions<"stream"> & { acceptErrors?: boolean } = {},
    ): Promise<{ status: number; json: unknown }> {
      const res = await $fetch.raw(url, {
        ...options,
        responseType: "stream",
        ignoreResponseError: options.acceptErrors,
      });
      const read = await readBody(res, { maxBytes: MAX_SIDE_ANSWER_BYTES, idleMs: timeoutMs });
      if (!read.ok) {
        throw new Error(`answer from ${new URL(url).host} ${read.why === "too_large" ? "is too large" : "broke off"}`);
      }
      let json: unknown;
      try {
        json = JSON.parse(decoder.decode(read.bytes));
      } catch {
        json = undefined;
      }
      return { status: res.status, json };
    },
  };
}
