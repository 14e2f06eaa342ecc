/** Key records and the rules that move them between states. @module */
import type { UsageWindow } from "../providers/usage_caps.ts";

/** One upstream key as stored. `secret` never leaves the pool in a response. */
export interface KeyRecord {
  /** Stable id: a hash of provider and secret; how admins address the key. */
  id: string;
  provider: string;
  secret: string;
  /** Free text, e.g. the account e-mail from ollama.txt. */
  label?: string;
  state: "active" | "cooling" | "disabled";
  /** When a cooling or disabled key is tried again; absent on a key disabled until re-enabled. */
  until?: number;
  /** Consecutive key failures (401/403); a success resets it. */
  failures: number;
  /** Why the key is cooling or disabled. */
  reason?: string;
  /**
   * The usage cap the key's account last reported (Ollama Cloud): while cooling, the key rests
   * until that window resets; once awake it gets one half-open try, and a success clears it.
   */
  cap?: UsageWindow;
  /** Consecutive 429s without Retry-After: each rests the key twice as long (a success resets it). */
  rateLimitStreak?: number;
  /** When the rest of the streak's last step ends: 429s reported before then were sent in parallel. */
  backoffUntil?: number;
  createdAt: number;
  /** After this the key is not used (set from the `ttl` of POST /admin/api-keys). */
  expiresAt?: number;
  /** Tier: keys of a higher priority take every request while one of them is ready. Absent = 0. */
  priority?: number;
  /** Share of its tier's requests relative to the other keys of the tier. Absent = 1. */
  weight?: number;
  /** Models the key's own model list names (from a probe); absent = unknown, any model is tried. */
  models?: string[];
  /** When `models` was last read. */
  modelsAt?: number;
}

/** Bounds of the placement fields, checked wherever they are set. */
export const PRIORITY_RANGE = { min: -1000, max: 1000 } as const;
export const WEIGHT_RANGE = { min: 1, max: 1000 } as const;

/** When key failures (401/402/403, never the caller's 4xx) disable a key, and for how long. */
export interface HealthRules {
  /**
   * Consecutive 401/403 answers that disable a key.
   * @default 3
   */
  failuresBeforeDisable: number;
  /**
   * How long a key disabled by failures rests before it is tried again.
   * @default 3_600_000
   */
  disableMs: number;
}
