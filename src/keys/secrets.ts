/** Key ids and masking: how a secret is named and shown without being revealed. @module */
import { sha256HexSync } from "../auth/sha256.ts";

const encoder = new TextEncoder();

/** Lowercase hex SHA-256 of a string. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/**
 * The stable id of a key: 16 hex chars of SHA-256(provider + "\n" + secret). Synchronous, so an
 * import of 100,000 keys needs no 100,000 pending promises; 16 characters of its own, since a
 * slice of the 64-character digest would keep the digest alive with every key (8 MB per 100,000).
 */
export function keyId(provider: string, secret: string): string {
  return sha256HexSync(`${provider}\n${secret}`, 16);
}

/**
 * Shows the first and last four characters (`abcd…wxyz`); short secrets show only the last two.
 * @example
 * maskSecret("sk-or-v1-0123456789abcdef") // "sk-o…cdef"
 */
export function maskSecret(secret: string): string {
  if (secret.length >= 16) return `${secret.slice(0, 4)}…${secret.slice(-4)}`;
  if (secret.length >= 6) return `…${secret.slice(-2)}`;
  return "…";
}
