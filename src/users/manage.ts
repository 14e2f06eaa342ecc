/**
 * Admin user management, and the check-in history (a user's own, paged). Listing reads the id
 * names (one key scan) and then only the records of the requested page; a substring search has to
 * read every record, while a search for a whole address is one index lookup.
 * @module
 */
import { PoolError } from "../errors.ts";
import { DAY_MS, emailKey, extendUserToken, issueUserToken, syncTokenState, type UserSystem } from "./system.ts";
import type { SignInRecord, UserRecord } from "./types.ts";
import { type AdminUserView, adminViews } from "./views.ts";

const newestFirst = (a: UserRecord, b: UserRecord): number => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
const notFound = (): PoolError => new PoolError(404, "user_not_found", "no such user");

/** A page of check-ins, newest first. */
export async function signInPage(sys: UserSystem, userId: string, page: number, limit: number): Promise<{
  items: SignInRecord[];
  total: number;
  page: number;
  limit: number;
  pageCount: number;
  hasNext: boolean;
  hasPrev: boolean;
}> {
  const days = await sys.store.signInDays(userId);
  const items = await sys.store.signIns(userId, days.slice((page - 1) * limit, page * limit));
  const pageCount = Math.ceil(days.length / limit);
  return {
    items: items.map(({ id, signDay, createdAt }) => ({ id, signDay, createdAt })),
    total: days.length,
    page,
    limit,
    pageCount,
    hasNext: page < pageCount,
    hasPrev: page > 1,
  };
}

/** The admin operations. */
export interface UserAdmin {
  list(
    page: number,
    pageSize: number,
    search?: string,
  ): Promise<{ page: number; pageSize: number; total: number; users: AdminUserView[] }>;
  get(id: string): Promise<AdminUserView>;
  update(id: string, patch: { role?: UserRecord["role"]; isActive?: boolean }): Promise<AdminUserView>;
  /** Revokes the user's token and issues a new one, shown in this answer only. */
  resetKey(
    id: string,
    ttlSeconds: number,
  ): Promise<{ user: AdminUserView; token: { token: string; name: string; expiresAt: number } }>;
  /** Moves the token's expiry to `max(now, expiry) + days` (no cap: an admin's decision). */
  extendKey(id: string, days: number): Promise<AdminUserView>;
  /** Enables or disables many users; returns the ids not found. */
  setActive(ids: string[], isActive: boolean): Promise<{ updated: number; notFound: string[] }>;
}

export function createUserAdmin(sys: UserSystem): UserAdmin {
  const view = async (u: UserRecord): Promise<AdminUserView> => (await adminViews(sys, [u]))[0];
  /** Read-modify-write of one user, serialized with the user's own operations on this instance. */
  const change = <T>(id: string, fn: (u: UserRecord) => Promise<T>): Promise<T> =>
    sys.serial(id, async () => {
      const u = await sys.store.get(id);
      if (!u) throw notFound();
      const out = await fn(u);
      await sys.store.put(u, emailKey(u.email));
      return out;
    });
  const setActive = async (u: UserRecord, isActive: boolean): Promise<void> => {
    // Disabling also ends every session, so a session taken before re-enabling stays dead.
    if (u.isActive && !isActive) u.sessionVersion++;
    u.isActive = isActive;
    await syncTokenState(sys, u); // the proxy refuses the token at once here, within a sync elsewhere
  };

  return {
    async list(page, pageSize, search) {
      let ids = (await sys.store.ids()).reverse(); // newest first
      let users: UserRecord[];
      const q = search?.trim().toLowerCase();
      if (q) {
        // A whole address is one index lookup; anything else is a substring scan over every record.
        const id = q.includes("@") ? await sys.store.idByEmail(emailKey(q)) : null;
        const exact = id ? await sys.store.get(id) : null;
        users = exact ? [exact] : (await sys.store.many(ids)).filter((u) => u.email.includes(q) || u.id === q);
      } else {
        const total = ids.length;
        ids = ids.slice((page - 1) * pageSize, page * pageSize);
        return { page, pageSize, total, users: await adminViews(sys, (await sys.store.many(ids)).sort(newestFirst)) };
      }
      users.sort(newestFirst);
      return {
        page,
        pageSize,
        total: users.length,
        users: await adminViews(sys, users.slice((page - 1) * pageSize, page * pageSize)),
      };
    },
    async get(id) {
      const u = await sys.store.get(id);
      if (!u) throw notFound();
      return view(u);
    },
    update(id, patch) {
      return change(id, async (u) => {
        if (patch.role !== undefined) u.role = patch.role;
        if (patch.isActive !== undefined) await setActive(u, patch.isActive);
        return view(u);
      });
    },
    resetKey(id, ttlSeconds) {
      return change(id, async (u) => {
        const token = await issueUserToken(sys, u, ttlSeconds);
        const rec = sys.tokens.get(u.tokenId!)!;
        return { user: await view(u), token: { token, name: rec.name, expiresAt: rec.expiresAt! } };
      });
    },
    extendKey(id, days) {
      return change(id, async (u) => {
        if ((await extendUserToken(sys, u, days * DAY_MS)) === null) {
          throw new PoolError(409, "no_token", "this user has no client token; reset it first");
        }
        return view(u);
      });
    },
    async setActive(ids, isActive) {
      const missing: string[] = [];
      let updated = 0;
      for (const id of ids) {
        try {
          await change(id, (u) => setActive(u, isActive));
          updated++;
        } catch (err) {
          if (!(err instanceof PoolError) || err.status !== 404) throw err;
          missing.push(id);
        }
      }
      return { updated, notFound: missing };
    },
  };
}
