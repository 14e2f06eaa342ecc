/** Client token records. @module */

/** A client token as stored: only its SHA-256, never the token itself. */
export interface TokenRecord {
  /** Stable id (16 hex chars of the hash): how admins address it. */
  id: string;
  name: string;
  /** Lowercase hex SHA-256 of the token. */
  hash: string;
  /** Masked form for listings, e.g. `sk-Ab…xyz9`. */
  hint: string;
  createdAt: number;
  /** Epoch ms after which the token is refused; absent: never expires. */
  expiresAt?: number;
  /** Models this token may use: names, or `prefix*` patterns; absent: all. */
  allowedModels?: string[];
  /** Requests per rate-limit window (overrides the pool's `rateLimit.perToken`). */
  rpm?: number;
  /** Prompt + completion tokens per minute. */
  tpm?: number;
  /** Prompt + completion tokens in total, for the token's whole life. */
  quota?: number;
  /** The registered user this token was issued to (user system). */
  userId?: string;
  /** Refused by `verify()` while set: the owning user is disabled. */
  disabled?: boolean;
}

/** The policy fields of a token, as admins set them. */
export type TokenPolicy = Pick<TokenRecord, "allowedModels" | "rpm" | "tpm" | "quota">;

/** What links a token to a user, set when the user system issues it. */
export type TokenLink = Pick<TokenRecord, "userId" | "disabled">;
