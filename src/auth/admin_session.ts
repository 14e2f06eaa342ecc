/**
 * Dashboard sessions. The admin token is typed once into the login form; the browser then holds
 * only a signed, expiring, HttpOnly + SameSite=Strict cookie. Chosen over sessionStorage because
 * page scripts can never read an HttpOnly cookie, so even a script injected into a page could
 * not carry the credential away. The cookie is stateless (HMAC over its expiry, keyed from the
 * admin credential) so every instance accepts it without a session table, and changing the
 * admin token voids every session.
 * @module
 */
import type { AdminCredential } from "./admin.ts";
import { presentedToken } from "./bearer.ts";

/** The cookie's name. */
export const ADMIN_COOKIE = "pool_admin";
/** How long a dashboard login lasts. */
export const ADMIN_SESSION_MS = 12 * 3600_000;
/**
 * Header a cookie-authenticated write must carry. Browsers refuse to send a custom header
 * cross-origin without a CORS preflight the pool never grants, so a forged form post or
 * cross-site fetch cannot pass, even where SameSite is not enforced.
 */
export const UI_HEADER = "x-pool-ui";

const encoder = new TextEncoder();

function b64url(bytes: ArrayBuffer): string {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromB64url(s: string): Uint8Array | undefined {
  try {
    const bin = atob(s.replaceAll("-", "+").replaceAll("_", "/"));
    return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** A cookie's value from a Cookie header, or undefined. */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function cookieAttributes(secure: boolean, maxAgeS: number, path: string): string {
  return `Path=${path}; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? "; Secure" : ""}`;
}

/**
 * A `Set-Cookie` value for a fresh session. `secure` when the page was served over https; `path`
 * the pool's mount point, so a host app's other routes never receive the cookie.
 */
export async function issueAdminCookie(
  cred: AdminCredential,
  now: number,
  secure: boolean,
  path = "/",
): Promise<string> {
  const nonce = b64url(crypto.getRandomValues(new Uint8Array(12)).buffer as ArrayBuffer);
  const payload = `${now + ADMIN_SESSION_MS}.${nonce}`;
  const sig = await crypto.subtle.sign("HMAC", await cred.sessionKey(), encoder.encode(payload));
  return `${ADMIN_COOKIE}=${payload}.${b64url(sig)}; ${cookieAttributes(secure, ADMIN_SESSION_MS / 1000, path)}`;
}

/** A `Set-Cookie` value that removes the session cookie. */
export function clearAdminCookie(secure: boolean, path = "/"): string {
  return `${ADMIN_COOKIE}=; ${cookieAttributes(secure, 0, path)}`;
}

/** A verified session cookie: its nonce and expiry. */
export interface AdminSession {
  nonce: string;
  expires: number;
}

/** Tells whether a session was ended by logging out (see ended_sessions.ts). */
export type SessionEnded = (nonce: string) => Promise<boolean>;

/** The request's unexpired session cookie signed with this credential, if it has one. */
export async function adminSession(
  cred: AdminCredential,
  req: Request,
  now: number,
): Promise<AdminSession | undefined> {
  const value = cookieValue(req.headers.get("cookie"), ADMIN_COOKIE);
  const parts = value?.split(".");
  if (!parts || parts.length !== 3) return undefined;
  const [exp, nonce, sig] = parts;
  const expires = Number(exp);
  if (!Number.isSafeInteger(expires) || expires <= now) return undefined;
  const bytes = fromB64url(sig);
  if (!bytes) return undefined;
  // HMAC verification in Web Crypto compares in constant time.
  const ok = await crypto.subtle.verify(
    "HMAC",
    await cred.sessionKey(),
    bytes as Uint8Array<ArrayBuffer>,
    encoder.encode(`${exp}.${nonce}`),
  );
  return ok ? { nonce, expires } : undefined;
}

/** Whether the request carries a live session: signed, unexpired, and not logged out. */
export async function hasAdminSession(
  cred: AdminCredential,
  req: Request,
  now: number,
  ended?: SessionEnded,
): Promise<boolean> {
  const s = await adminSession(cred, req, now);
  return s !== undefined && !(await ended?.(s.nonce));
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Whether a request may use the admin API: the bearer token, or a dashboard session cookie —
 * the latter for writes only with the {@link UI_HEADER} a cross-site request cannot send.
 */
export async function adminAuthorized(
  cred: AdminCredential,
  req: Request,
  now: number,
  ended?: SessionEnded,
): Promise<boolean> {
  const bearer = presentedToken(req.headers);
  if (bearer !== undefined) return await cred.check(bearer);
  if (!SAFE.has(req.method) && req.headers.get(UI_HEADER) !== "1") return false;
  return await hasAdminSession(cred, req, now, ended);
}
