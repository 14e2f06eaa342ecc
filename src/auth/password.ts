/**
 * Password hashing: PBKDF2-HMAC-SHA256 from Web Crypto, a random 16-byte salt per password, and
 * the iteration count stored in the hash so it can be raised later (a login re-hashes a password
 * whose stored count is below the configured one).
 *
 * Format: `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>` (32-byte hash).
 * @module
 */
import { timingSafeEqualHex } from "./crypto.ts";

const PREFIX = "pbkdf2-sha256";
/** Longer inputs are refused before hashing: PBKDF2 cost grows with the password's length. */
export const MAX_PASSWORD_LENGTH = 256;

const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const fromHex = (hex: string): Uint8Array<ArrayBuffer> => {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
};

async function derive(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<string> {
  const material = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password.normalize("NFKC")),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, material, 256);
  return toHex(new Uint8Array(bits));
}

/**
 * Hashes a password with a fresh salt.
 * @example
 * const stored = await hashPassword("correct horse", 600_000); // "pbkdf2-sha256$600000$…$…"
 */
export async function hashPassword(password: string, iterations: number): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return `${PREFIX}$${iterations}$${toHex(salt)}$${await derive(password, salt, iterations)}`;
}

/** The iteration count of a stored hash, or 0 if it is not one of ours. */
export function hashIterations(stored: string): number {
  const parts = stored.split("$");
  return parts.length === 4 && parts[0] === PREFIX ? Number(parts[1]) || 0 : 0;
}

/** Whether `password` matches `stored`; the final comparison takes constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [prefix, iter, salt, hash] = stored.split("$");
  const iterations = Number(iter);
  if (
    prefix !== PREFIX || !Number.isInteger(iterations) || iterations < 1 || !/^[0-9a-f]{32}$/.test(salt ?? "") ||
    !/^[0-9a-f]{64}$/.test(hash ?? "")
  ) {
    return false;
  }
  return timingSafeEqualHex(await derive(password, fromHex(salt), iterations), hash);
}
