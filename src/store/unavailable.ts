/**
 * Storage failures as the client sees them: whatever a backend rejects with (a closed Redis
 * connection, a refused Postgres socket, a full disk) becomes a 503 `storage_unavailable` in the
 * route's error format, instead of an anonymous 500. Requests that need no storage write (the
 * proxy, statistics) keep working from memory during an outage; admin and user writes cannot.
 * @module
 */
import type { Storage } from "unstorage";
import { PoolError } from "../errors.ts";
import type { CounterSink } from "./counters.ts";

/** A storage operation failed; `cause` holds the backend's own error (logged, never answered). */
export class StorageUnavailable extends PoolError {
  constructor(cause: unknown) {
    super(503, "storage_unavailable", "the pool's storage is not answering; nothing was changed, retry shortly", {
      type: "server_error",
      headers: { "retry-after": "5" },
    });
    this.cause = cause;
  }
}

/** The backend's own message behind a storage failure (for logs and /health). */
export function storageErrorMessage(err: unknown): string {
  const inner = err instanceof StorageUnavailable ? err.cause : err;
  return (inner as Error)?.message ?? String(inner);
}

const asUnavailable = (err: unknown): never => {
  throw err instanceof PoolError ? err : new StorageUnavailable(err);
};

/**
 * The same storage, whose promises reject with {@link StorageUnavailable}. A Proxy rather than a
 * list of methods, so that whatever unstorage adds is covered; synchronous members (getMount,
 * mount) pass through unchanged.
 */
export function failingAsUnavailable(storage: Storage): Storage {
  // One wrapper per method name, made on first use: bounded by the Storage interface's size.
  const wrappers = new Map<PropertyKey, unknown>();
  return new Proxy(storage, {
    get(target, prop) {
      const member = Reflect.get(target, prop, target);
      if (typeof member !== "function") return member;
      let wrapper = wrappers.get(prop);
      if (!wrapper) {
        wrapper = (...args: unknown[]) => {
          const result = member.apply(target, args);
          return typeof (result as PromiseLike<unknown> | undefined)?.then === "function"
            ? Promise.resolve(result).catch(asUnavailable)
            : result;
        };
        wrappers.set(prop, wrapper);
      }
      return wrapper;
    },
  });
}

/** The same counter sink, whose failures are {@link StorageUnavailable}. */
export function sinkFailingAsUnavailable(sink: CounterSink): CounterSink {
  return {
    apply: (batch) => sink.apply(batch).catch(asUnavailable),
    read: (records) => sink.read(records).catch(asUnavailable),
    remove: (records) => sink.remove(records).catch(asUnavailable),
  };
}
