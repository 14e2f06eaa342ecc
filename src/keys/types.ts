/** Key records and the rules that move them between states. @module */

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
  createdAt: number;
  /** After this the key is not used (set from the `ttl` of POST /admin/api-keys). */
  expiresAt?: number;
}

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
