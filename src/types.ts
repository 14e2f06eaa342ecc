/**
 * Types shared across layers. This module imports nothing, so any module may import it without
 * pulling options or proxy code along (options.ts re-exports Logger, proxy/attempt.ts FetchLike).
 * @module
 */

/** Where the pool writes what it has to say. It never passes secrets to it. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A `fetch`-shaped upstream transport. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;
