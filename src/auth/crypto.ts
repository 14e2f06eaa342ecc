/** Random secrets and constant-time comparison, from Web Crypto only. @module */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** `length` characters from [A-Za-z0-9], uniformly (rejection sampling, no modulo bias). */
export function randomString(length: number): string {
  let out = "";
  const limit = 256 - (256 % ALPHABET.length);
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
    for (const b of bytes) {
      if (b < limit) out += ALPHABET[b % ALPHABET.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A new client token: `sk-` + 48 random characters. */
export function newClientToken(): string {
  return `sk-${randomString(48)}`;
}

/** Compares two hex strings in time that depends only on their length. */
export function timingSafeEqualHex(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}

/** A uniformly random code of `digits` decimal digits (rejection sampling over 32-bit values, no modulo bias). */
export function randomDigits(digits = 6): string {
  const range = 10 ** digits;
  const limit = Math.floor(0x1_0000_0000 / range) * range;
  const buf = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(buf);
    if (buf[0] < limit) return String(buf[0] % range).padStart(digits, "0");
  }
}
