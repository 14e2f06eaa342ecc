/**
 * The admin credential: given by option/env, or generated on first start, stored only as a hash,
 * and handed to `onGenerated` exactly once.
 * @module
 */
import { sha256Hex } from "../keys/secrets.ts";
import type { PoolStore } from "../store/store.ts";
import { newClientToken, timingSafeEqualHex } from "./crypto.ts";

interface AdminMeta {
  hash: string;
  createdAt: number;
}

/** Checks presented admin tokens in constant time. */
export interface AdminCredential {
  check(presented: string | undefined): Promise<boolean>;
  /**
   * An HMAC key derived from the credential (HKDF over its hash), for signing dashboard session
   * cookies: every instance derives the same key, and changing the admin token voids every session.
   */
  sessionKey(): Promise<CryptoKey>;
}

/**
 * Resolves the admin credential. With `configured` set, that token is the credential. Without it,
 * the stored hash is used; on the very first start a token is generated, its hash stored, and the
 * plain token passed to `onGenerated` (the server prints it once).
 */
export async function resolveAdmin(
  store: PoolStore,
  configured: string | undefined,
  onGenerated: (token: string) => void,
): Promise<AdminCredential> {
  let hash: string;
  if (configured) {
    hash = await sha256Hex(configured);
  } else {
    const meta = await store.getMeta<AdminMeta>("admin");
    if (meta !== null && meta !== undefined && typeof meta?.hash !== "string") {
      // Generating a new credential here would lock the operator out of the old one for good.
      throw new Error(
        "the stored admin credential (meta:admin) cannot be read; start with ADMIN_TOKEN set to use a token you choose, or remove that record to have a new one generated",
      );
    }
    if (meta?.hash) {
      hash = meta.hash;
    } else {
      const token = `admin-${newClientToken().slice(3)}`;
      hash = await sha256Hex(token);
      await store.setMeta<AdminMeta>("admin", { hash, createdAt: Date.now() });
      onGenerated(token);
    }
  }
  let sessionKey: Promise<CryptoKey> | undefined;
  return {
    async check(presented) {
      if (!presented) return false;
      return timingSafeEqualHex(await sha256Hex(presented), hash);
    },
    sessionKey: () => sessionKey ??= deriveSessionKey(hash),
  };
}

async function deriveSessionKey(hash: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(hash), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(0),
      info: new TextEncoder().encode("ollama-api-pool admin session v1"),
    },
    material,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}
