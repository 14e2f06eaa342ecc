/**
 * User sessions as HS256 JWTs (hono/jwt; `sub`, `sv`, `iat`, `exp`). Why JWTs rather than opaque
 * ids in the store: every session route reads the user record anyway (profile, check-in), so a
 * signed token needs no session storage, no cleanup of expired sessions and no extra round trip,
 * while revocation still works: `sv` must equal the record's `sessionVersion` (logout raises it,
 * ending every session of that user) and a disabled user is refused at that same read.
 * @module
 */
import { sign, verify } from "hono/jwt";
import { PoolError } from "../errors.ts";
import type { UserRecord } from "./types.ts";

/** What a session token carries. */
interface SessionClaims {
  sub: string;
  sv: number;
  iat: number;
  exp: number;
  typ: "session";
  [key: string]: unknown;
}

const invalid = (): PoolError =>
  new PoolError(401, "invalid_session", "sign in again: the session is missing, invalid or expired");

/** A session token for the user, and when it expires (epoch ms). */
export async function createSession(
  key: CryptoKey,
  user: UserRecord,
  now: number,
  ttlSeconds: number,
): Promise<{ token: string; expiresAt: number }> {
  const iat = Math.floor(now / 1000);
  const claims: SessionClaims = { sub: user.id, sv: user.sessionVersion, iat, exp: iat + ttlSeconds, typ: "session" };
  return { token: await sign(claims, key, "HS256"), expiresAt: (iat + ttlSeconds) * 1000 };
}

/**
 * The claims of a valid session token; 401 otherwise. hono/jwt checks the HMAC with Web Crypto's
 * `verify` (constant time); `exp` and `iat` are checked here against the pool's clock (`now`
 * option) instead of hono's `Date.now()`, so tests and the rest of the pool share one time.
 */
export async function readSession(
  key: CryptoKey,
  token: string | undefined,
  now: number,
): Promise<{ userId: string; version: number }> {
  if (!token || token.length > 4096) throw invalid();
  let claims: Partial<SessionClaims>;
  try {
    claims = (await verify(token, key, { alg: "HS256", exp: false, iat: false, nbf: false })) as Partial<SessionClaims>;
  } catch {
    throw invalid();
  }
  if (
    claims.typ !== "session" || typeof claims.sub !== "string" || typeof claims.sv !== "number" ||
    typeof claims.exp !== "number"
  ) throw invalid();
  if (claims.exp * 1000 <= now || typeof claims.iat !== "number" || claims.iat * 1000 > now + 60_000) throw invalid();
  return { userId: claims.sub, version: claims.sv };
}

/** The session's user, if it is still theirs and active; 401 or 403 otherwise. */
export function checkSessionUser(user: UserRecord | null, version: number): UserRecord {
  if (!user || user.sessionVersion !== version) throw invalid();
  if (!user.isActive) throw new PoolError(403, "user_disabled", "this account is disabled");
  return user;
}
