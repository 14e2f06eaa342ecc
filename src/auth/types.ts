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
}
