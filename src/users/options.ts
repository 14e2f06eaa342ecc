/**
 * Options of the user system (`createPool({ users })`): registration by mailed code, password or
 * code login, the daily check-in, and admin user management. Off unless `users` is given.
 * @module
 */
import type { Logger } from "../types.ts";
import { isTimeZone } from "./calendar.ts";
import { consoleMailer, type Mailer } from "./mailer.ts";
import { TURNSTILE_VERIFY_URL, type TurnstileCheck } from "./turnstile.ts";

/** Cloudflare Turnstile on send-code and register. */
export interface TurnstileOptions {
  /**
   * Whether the challenge is required (`ENABLE_TURNSTILE`). Enabled without `secretKey`,
   * `createPool` throws rather than run unprotected.
   * @default true
   */
  enabled?: boolean;
  /** Server-side secret (`TURNSTILE_SECRET_KEY`). */
  secretKey?: string;
  /** Public site key for pages (`TURNSTILE_SITE_KEY`), served by `GET /api/auth/config`. */
  siteKey?: string;
  /**
   * Where tokens are verified (tests point it at a local stub).
   * @default "https://challenges.cloudflare.com/turnstile/v0/siteverify"
   */
  verifyUrl?: string;
  /**
   * Verification timeout; past it the request is refused.
   * @default 10000
   */
  timeoutMs?: number;
}

/** Options of the user system. */
export interface UsersOptions {
  /**
   * The secret (`AUTH_SECRET`) that session signing, code hashing and the encryption of users'
   * tokens are derived from; at least 32 characters. Changing it ends every session and makes
   * stored tokens unreadable to their users (admins can reset them).
   */
  secret: string;
  /**
   * Delivers verification codes: `webhookMailer(url)`, `smtpMailer(...)` from
   * `ollama-api-pool/smtp`, or your own `{ send(message) }`.
   * @default consoleMailer(logger) — prints codes; for development only (a warning says so)
   */
  mailer?: Mailer;
  /**
   * Validity of the client token issued at registration, in days.
   * @default 3
   */
  tokenValidityDays?: number;
  /**
   * Check-ins never push a token's expiry further than this many days from now.
   * @default no cap
   */
  maxValidityDays?: number;
  /**
   * IANA time zone whose days the check-in counts (`"Asia/Shanghai"`); shown in the profile.
   * @default "UTC"
   */
  timeZone?: string;
  /**
   * Session (JWT) lifetime in seconds.
   * @default 604800 (7 days)
   */
  sessionTtlSeconds?: number;
  /**
   * Shortest accepted password (the original accepted 6).
   * @default 8
   */
  passwordMinLength?: number;
  /**
   * PBKDF2-SHA256 iterations for new password hashes (at least 100,000). Raising it re-hashes each
   * password at its owner's next password login.
   * @default 600000 (OWASP's figure for PBKDF2-HMAC-SHA256)
   */
  pbkdf2Iterations?: number;
  /**
   * The provider named as `keyProvider` in profiles (client tokens work for every provider).
   * @default the first provider
   */
  keyProvider?: string;
  /**
   * Product name in mail subjects and bodies.
   * @default "ollama-api-pool"
   */
  appName?: string;
  /** Cloudflare Turnstile on send-code and register. @default off */
  turnstile?: TurnstileOptions;
}

/** Users options with defaults filled in. */
export interface ResolvedUsersOptions {
  secret: string;
  mailer: Mailer;
  tokenValidityDays: number;
  maxValidityDays?: number;
  timeZone: string;
  sessionTtlSeconds: number;
  passwordMinLength: number;
  pbkdf2Iterations: number;
  keyProvider: string;
  appName: string;
  turnstile?: TurnstileCheck & { siteKey?: string };
  /** The pool's logger (mail failures are reported here, not to the client). */
  logger: Logger;
}

function fail(message: string): never {
  throw new TypeError(`[ollama-api-pool] ${message}`);
}

function int(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    fail(`users.${name}: must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Validates `users`; undefined when the user system is off. */
export function resolveUsersOptions(
  o: UsersOptions | undefined,
  providerIds: string[],
  logger: Logger,
): ResolvedUsersOptions | undefined {
  if (o === undefined) return undefined;
  if (typeof o !== "object" || o === null) fail("users: an object is required");
  if (typeof o.secret !== "string" || o.secret.length < 32) {
    fail("users.secret: at least 32 characters are required (AUTH_SECRET; e.g. `openssl rand -hex 32`)");
  }
  if (o.mailer !== undefined && typeof o.mailer?.send !== "function") {
    fail("users.mailer: must be an object with a send(message) method");
  }
  const timeZone = o.timeZone ?? "UTC";
  if (typeof timeZone !== "string" || !isTimeZone(timeZone)) {
    fail(`users.timeZone: ${JSON.stringify(timeZone)} is not an IANA time zone Intl knows`);
  }
  const tokenValidityDays = int("tokenValidityDays", o.tokenValidityDays ?? 3, 1, 3650);
  const maxValidityDays = o.maxValidityDays === undefined
    ? undefined
    : int("maxValidityDays", o.maxValidityDays, 1, 3650);
  if (maxValidityDays !== undefined && maxValidityDays < tokenValidityDays) {
    fail("users.maxValidityDays: must be at least tokenValidityDays");
  }
  const keyProvider = o.keyProvider ?? providerIds[0];
  if (!providerIds.includes(keyProvider)) {
    fail(`users.keyProvider: "${keyProvider}" is not a configured provider (${providerIds.join(", ")})`);
  }
  const t = o.turnstile;
  let turnstile: ResolvedUsersOptions["turnstile"];
  if (t !== undefined && t.enabled !== false) {
    if (typeof t.secretKey !== "string" || t.secretKey === "") {
      fail(
        "users.turnstile.secretKey: Turnstile is enabled but has no secret key (TURNSTILE_SECRET_KEY); refusing to run without the check",
      );
    }
    const verifyUrl = t.verifyUrl ?? TURNSTILE_VERIFY_URL;
    try {
      new URL(verifyUrl);
    } catch {
      fail(`users.turnstile.verifyUrl: "${verifyUrl}" is not an absolute URL`);
    }
    turnstile = {
      secretKey: t.secretKey,
      siteKey: t.siteKey,
      verifyUrl,
      timeoutMs: int("turnstile.timeoutMs", t.timeoutMs ?? 10_000, 1, 120_000),
    };
  }
  if (o.mailer === undefined) {
    logger.warn(
      "[ollama-api-pool] users.mailer is not set: verification codes are printed to the log (development only)",
    );
  }
  return {
    secret: o.secret,
    mailer: o.mailer ?? consoleMailer(logger),
    tokenValidityDays,
    ...(maxValidityDays === undefined ? {} : { maxValidityDays }),
    timeZone,
    sessionTtlSeconds: int("sessionTtlSeconds", o.sessionTtlSeconds ?? 604_800, 60, 31_536_000),
    passwordMinLength: int("passwordMinLength", o.passwordMinLength ?? 8, 6, 128),
    pbkdf2Iterations: int("pbkdf2Iterations", o.pbkdf2Iterations ?? 600_000, 100_000, 10_000_000),
    keyProvider,
    appName: o.appName ?? "ollama-api-pool",
    ...(turnstile ? { turnstile } : {}),
    logger,
  };
}
