/**
 * Keys derived from the one user-system secret (`AUTH_SECRET`) with HKDF-SHA256, one per purpose,
 * so a session-signing key never doubles as an encryption key: HS256 session signing, HMAC of
 * verification codes, and AES-GCM sealing of each user's client token (tokens are otherwise kept
 * only as SHA-256, but users must be able to see theirs again).
 * @module
 */

const encoder = new TextEncoder();
const SALT = encoder.encode("ollama-api-pool/users/v1");

/** The derived keys. */
export interface UserKeys {
  /** HS256 key for session JWTs (a CryptoKey, so hono/jwt verifies with Web Crypto). */
  session: CryptoKey;
  /** HMAC-SHA256 of verification codes: a leaked store does not reveal or let one test codes. */
  codes: CryptoKey;
  /** AES-256-GCM for the users' client tokens at rest. */
  tokens: CryptoKey;
}

const b64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const unb64url = (text: string): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

/** Derives the three keys from the secret. */
export async function deriveUserKeys(secret: string): Promise<UserKeys> {
  const base = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
  const hkdf = (info: string) => ({ name: "HKDF", hash: "SHA-256", salt: SALT, info: encoder.encode(info) });
  const hmac = { name: "HMAC", hash: "SHA-256", length: 256 };
  const [session, codes, tokens] = await Promise.all([
    crypto.subtle.deriveKey(hkdf("session-hs256"), base, hmac, false, ["sign", "verify"]),
    crypto.subtle.deriveKey(hkdf("verification-codes"), base, hmac, false, ["sign"]),
    crypto.subtle.deriveKey(hkdf("client-token-seal"), base, { name: "AES-GCM", length: 256 }, false, [
      "encrypt",
      "decrypt",
    ]),
  ]);
  return { session, codes, tokens };
}

/** Lowercase hex HMAC-SHA256 of `text`. */
export async function hmacHex(key: CryptoKey, text: string): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Encrypts `plain` as `v1.<iv>.<ciphertext>` (base64url, 12-byte random IV). `context` (the user id)
 * is authenticated but not stored, so a sealed token copied into another user record does not open.
 */
export async function seal(key: CryptoKey, plain: string, context: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(context) },
    key,
    encoder.encode(plain),
  );
  return `v1.${b64url(iv)}.${b64url(new Uint8Array(ct))}`;
}

/** Decrypts what {@link seal} made; undefined when it was tampered with, or sealed under another secret or context. */
export async function unseal(key: CryptoKey, sealed: string, context: string): Promise<string | undefined> {
  const [v, iv, ct] = sealed.split(".");
  if (v !== "v1" || !iv || !ct) return undefined;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: unb64url(iv), additionalData: encoder.encode(context) },
      key,
      unb64url(ct),
    );
    return new TextDecoder().decode(plain);
  } catch {
    return undefined;
  }
}
