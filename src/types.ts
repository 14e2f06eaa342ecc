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

/** Tokens one request consumed (read by the wire formats, counted by proxy/usage.ts's rules). */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** How many reported values were ignored as not sane (for `/metrics`); absent when none. */
  rejected?: number;
}

/** A `fetch`-shaped upstream transport. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;
