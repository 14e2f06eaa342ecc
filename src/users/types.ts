/** User records, as stored. @module */

/** A registered user. Never leaves the server as it is: see the profile and admin views. */
export interface UserRecord {
  /** Time-ordered id (`u` + base-36 creation time + random), so names sort newest last. */
  id: string;
  /** Lower-cased, trimmed address. */
  email: string;
  /** A label for admins; it grants nothing (the admin API takes only the admin token). */
  role: "user" | "admin";
  isActive: boolean;
  /** `pbkdf2-sha256$<iterations>$<salt>$<hash>`. */
  password: string;
  createdAt: number;
  lastLoginAt?: number;
  lastSignInAt?: number;
  /** The client token issued to this user (a normal token record with `userId`). */
  tokenId?: string;
  /** That token, AES-GCM-sealed with a key derived from the auth secret (the user may see it again). */
  tokenSealed?: string;
  /** Masked token for admin listings. */
  tokenHint?: string;
  /** Raised by logout: every session issued before is refused. */
  sessionVersion: number;
}

/** One daily check-in. */
export interface SignInRecord {
  id: string;
  /** The local day (`YYYY-MM-DD`) in the configured time zone. */
  signDay: string;
  createdAt: number;
}

/** Code lifetime; the stored record of an address's code lives as long after its last request. */
export const CODE_TTL_MS = 10 * 60_000;

/** A verification code waiting for use; one per address (a new one replaces it). */
export interface CodeRecord {
  purpose: "register" | "login";
  /** HMAC-SHA256 of purpose, address and code. */
  mac: string;
  sentAt: number;
  expiresAt: number;
}
