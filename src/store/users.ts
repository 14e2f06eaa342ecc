/**
 * User records over unstorage, under the names of `userKeys` (store/key_names.ts).
 * @module
 */
import type { Storage } from "unstorage";
import { CODE_TTL_MS, type CodeRecord, type SignInRecord, type UserRecord } from "../users/types.ts";
import { ExpirySweep } from "./expiry_sweep.ts";
import { userKeys } from "./key_names.ts";
import { Quarantine } from "./quarantine.ts";

/** The user system's view of the store. */
export interface UserStore {
  get(id: string): Promise<UserRecord | null>;
  /** By the address hash (see {@link emailKey}). */
  idByEmail(emailHash: string): Promise<string | null>;
  /** Writes the record and its address index. */
  put(user: UserRecord, emailHash: string): Promise<void>;
  /** Every user id, oldest first (names only; records are read per page). */
  ids(): Promise<string[]>;
  many(ids: string[]): Promise<UserRecord[]>;
  getCode(emailHash: string): Promise<CodeRecord | null>;
  putCode(emailHash: string, code: CodeRecord): Promise<void>;
  removeCode(emailHash: string): Promise<void>;
  hasSignIn(userId: string, day: string): Promise<boolean>;
  putSignIn(userId: string, record: SignInRecord): Promise<void>;
  /** Check-in days of a user, newest first. */
  signInDays(userId: string): Promise<string[]>;
  signIns(userId: string, days: string[]): Promise<SignInRecord[]>;
}

/** The shape of ids `newUserId` makes, with room to spare. */
const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;
const lastSegment = (name: string): string => name.slice(name.lastIndexOf(":") + 1);

/**
 * Wraps a storage as a {@link UserStore}; unreadable records go to `quarantine`, not away.
 * `now` is the clock that decides when a pending code's record is over.
 */
export function createUserStore(
  storage: Storage,
  quarantine: Quarantine = new Quarantine(storage, console.error),
  now: () => number = Date.now,
): UserStore {
  /**
   * A pending code's record lives the code's lifetime after its last request (CODE_TTL_MS, 10
   * minutes; the resend throttle it holds is shorter): the store's TTL, or a sweep at most every
   * 10 minutes at a code request where the store has none (memory, files). Bound: the records
   * alive are the addresses that asked for a code in the last 20 minutes, which the per-IP
   * throttle of code requests limits.
   */
  const codeSweep = new ExpirySweep<CodeRecord>(
    storage,
    userKeys.code("").slice(0, -1),
    (rec) => typeof rec.sentAt === "number" ? rec.sentAt + CODE_TTL_MS : undefined,
    now,
  );
  /** Reads in batches of 1,000 (one MGET or query each where the driver can), in the order asked. */
  const records = async <T>(names: string[]): Promise<T[]> => {
    const out: T[] = [];
    for (let i = 0; i < names.length; i += 1000) {
      out.push(...await quarantine.filter<T>(await storage.getItems(names.slice(i, i + 1000))));
    }
    return out;
  };
  return {
    // Ids come from URLs: one that is not an id the pool made (`../..`) is nobody, not a storage error.
    get: async (id) => {
      if (!USER_ID.test(id)) return null;
      const value = await storage.getItem(userKeys.record(id));
      return (await quarantine.admit(userKeys.record(id), value)) ? value as UserRecord : null;
    },
    idByEmail: async (h) => (await storage.getItem<{ id: string }>(userKeys.email(h)))?.id ?? null,
    async put(user, emailHash) {
      await storage.setItem(userKeys.record(user.id), user);
      await storage.setItem(userKeys.email(emailHash), { id: user.id });
    },
    async ids() {
      return (await storage.getKeys(userKeys.records)).map(lastSegment).sort();
    },
    many: (ids) => records<UserRecord>(ids.map(userKeys.record)),
    getCode: (h) => storage.getItem<CodeRecord>(userKeys.code(h)),
    async putCode(h, code) {
      const ttl = Math.max(1, Math.ceil((code.sentAt + CODE_TTL_MS - now()) / 1000));
      await storage.setItem(userKeys.code(h), code, { ttl });
      await codeSweep.maybe();
    },
    removeCode: (h) => storage.removeItem(userKeys.code(h)),
    hasSignIn: (id, day) => storage.hasItem(userKeys.signIn(id, day)),
    putSignIn: (id, r) => storage.setItem(userKeys.signIn(id, r.signDay), r),
    async signInDays(id) {
      return (await storage.getKeys(userKeys.signIns(id))).map(lastSegment).sort().reverse();
    },
    signIns: (id, days) => records<SignInRecord>(days.map((d) => userKeys.signIn(id, d))),
  };
}
