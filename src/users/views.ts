/**
 * How users are shown: the profile (to the user: their own token in full) and the admin view
 * (token masked, always). Nothing else leaves the server; the password hash and the sealed
 * token never do.
 * @module
 */
import { checkInInfo, openUserToken, tokenRequests, type UserSystem, userToken } from "./system.ts";
import type { UserRecord } from "./types.ts";

/** Fields shared by both views. */
interface UserBase {
  id: string;
  email: string;
  role: "user" | "admin";
  isActive: boolean;
  keyProvider: string;
  keyExpiresAt: number | null;
  keyExpired: boolean;
  createdAt: number;
  lastLoginAt: number | null;
  lastSignInAt: number | null;
  keyRequestCount: number;
}

/** The user's own view (`GET /api/auth/profile`). */
export interface Profile extends UserBase {
  /** The user's client token in full; null when it was revoked. */
  keyToken: string | null;
  /** The check-in day's zone, today there, whether done, and when the next day starts (epoch ms). */
  checkIn: { timeZone: string; today: string; signedToday: boolean; nextResetAt: number };
}

/** An admin listing's view: the token masked. */
export interface AdminUserView extends UserBase {
  keyToken: string | null;
  tokenId: string | null;
}

function base(sys: UserSystem, u: UserRecord, requests: number): UserBase {
  const expiresAt = userToken(sys, u)?.expiresAt ?? null;
  return {
    id: u.id,
    email: u.email,
    role: u.role,
    isActive: u.isActive,
    keyProvider: sys.o.keyProvider,
    keyExpiresAt: expiresAt,
    keyExpired: expiresAt !== null && expiresAt <= sys.now(),
    createdAt: u.createdAt,
    lastLoginAt: u.lastLoginAt ?? null,
    lastSignInAt: u.lastSignInAt ?? null,
    keyRequestCount: requests,
  };
}

export async function profile(sys: UserSystem, u: UserRecord): Promise<Profile> {
  const [requests] = await tokenRequests(sys, [u]);
  return { ...base(sys, u, requests), keyToken: await openUserToken(sys, u), checkIn: checkInInfo(sys, u) };
}

export async function adminViews(sys: UserSystem, users: UserRecord[]): Promise<AdminUserView[]> {
  const requests = await tokenRequests(sys, users);
  return users.map((u, i) => {
    const live = userToken(sys, u);
    return {
      ...base(sys, u, requests[i]),
      keyToken: live ? u.tokenHint ?? live.hint : null,
      tokenId: live?.id ?? null,
    };
  });
}
