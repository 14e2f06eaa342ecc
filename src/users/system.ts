/**
 * The user system's shared parts: options, stores, derived keys, the code book, and the helpers
 * that link a user to their client token. `accounts.ts` (self-service) and `manage.ts` (admin)
 * build on it.
 * @module
 */
import { sha256HexSync } from "../auth/sha256.ts";
import { deriveUserKeys, seal, unseal, type UserKeys } from "../auth/derive.ts";
import type { TokenRegistry } from "../auth/tokens.ts";
import type { TokenRecord } from "../auth/types.ts";
import { badRequest } from "../errors.ts";
import { statsRecord, type StatsRecorder } from "../stats/recorder.ts";
import type { CounterSink } from "../store/counters.ts";
import { createUserStore, type UserStore } from "../store/users.ts";
import type { Storage } from "unstorage";
import type { Quarantine } from "../store/quarantine.ts";
import { localDay, nextDayStart } from "./calendar.ts";
import { type CodeBook, createCodeBook } from "./codes.ts";
import type { ResolvedUsersOptions } from "./options.ts";
import { type Serial, serialized } from "./serial.ts";
import type { UserRecord } from "./types.ts";

const DAY_MS = 86_400_000;
const EMAIL =
  /^[^\s@<>()[\]\\,;:"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** What the self-service and admin operations share. */
export interface UserSystem {
  readonly o: ResolvedUsersOptions;
  readonly store: UserStore;
  readonly tokens: TokenRegistry;
  readonly stats: StatsRecorder;
  readonly sink: CounterSink;
  readonly now: () => number;
  /** Serializes changes to one user (keyed by user id) or one address (by its hash). */
  readonly serial: Serial;
  keys(): Promise<UserKeys>;
  codes(): Promise<CodeBook>;
}

/** What the user system is built on: the pool's storage, tokens, statistics and clock. */
export interface UserSystemDeps {
  storage: Storage;
  tokens: TokenRegistry;
  stats: StatsRecorder;
  sink: CounterSink;
  now: () => number;
  quarantine?: Quarantine;
}

export function createUserSystem(
  o: ResolvedUsersOptions,
  deps: UserSystemDeps,
): UserSystem {
  const store = createUserStore(deps.storage, deps.quarantine);
  let keys: Promise<UserKeys> | undefined;
  let codes: Promise<CodeBook> | undefined;
  const sys: UserSystem = {
    o,
    store,
    tokens: deps.tokens,
    stats: deps.stats,
    sink: deps.sink,
    now: deps.now,
    serial: serialized(),
    keys: () => (keys ??= deriveUserKeys(o.secret)),
    codes: () => (codes ??= sys.keys().then((k) => createCodeBook(store, deps.sink, k.codes, deps.now))),
  };
  return sys;
}

/** A lower-cased, trimmed address; 400 when it is not one. */
export function normalEmail(raw: unknown): string {
  const email = typeof raw === "string" ? raw.trim().toLowerCase() : "";
  if (email.length > 254 || !EMAIL.test(email)) {
    throw badRequest("'email' must be a valid email address", "invalid_email");
  }
  return email;
}

/** The index key of an address: SHA-256 of the lower-cased address (no address in storage key names). */
export function emailKey(email: string): string {
  return sha256HexSync(`email\n${email}`);
}

/** A new user id: time-ordered, so storage names sort by registration. */
export function newUserId(now: number): string {
  const rnd = Array.from(crypto.getRandomValues(new Uint8Array(5)), (b) => b.toString(16).padStart(2, "0")).join("");
  return `u${now.toString(36).padStart(9, "0")}${rnd}`;
}

/** The user's token record, if it still exists. */
export function userToken(sys: UserSystem, user: UserRecord): TokenRecord | undefined {
  return user.tokenId ? sys.tokens.get(user.tokenId) : undefined;
}

/**
 * Issues a fresh client token for the user (revoking the old one), sealed into the record.
 * Returns the plain token. The caller stores the user.
 */
export async function issueUserToken(sys: UserSystem, user: UserRecord, ttlSeconds: number): Promise<string> {
  if (user.tokenId) await sys.tokens.revoke(user.tokenId);
  const { token, record } = await sys.tokens.create(`user ${user.email}`.slice(0, 100), ttlSeconds, {
    userId: user.id,
    ...(user.isActive ? {} : { disabled: true }),
  });
  user.tokenId = record.id;
  user.tokenHint = record.hint;
  user.tokenSealed = await seal((await sys.keys()).tokens, token, user.id);
  return token;
}

/** The user's plain token, or null when there is none or it cannot be opened (another secret). */
export async function openUserToken(sys: UserSystem, user: UserRecord): Promise<string | null> {
  if (!user.tokenSealed || !userToken(sys, user)) return null;
  return (await unseal((await sys.keys()).tokens, user.tokenSealed, user.id)) ?? null;
}

/** Moves a token's expiry to `max(now, expiry) + ms`, capped at `now + capMs` when given. */
export async function extendUserToken(
  sys: UserSystem,
  user: UserRecord,
  ms: number,
  capMs?: number,
): Promise<number | null> {
  const rec = userToken(sys, user);
  if (!rec) return null;
  const now = sys.now();
  let until = Math.max(now, rec.expiresAt ?? now) + ms;
  if (capMs !== undefined) until = Math.min(until, Math.max(now + capMs, rec.expiresAt ?? 0));
  await sys.tokens.update(rec.id, { expiresAt: until });
  return until;
}

/** Turns the user's token on or off with the user; the change feed carries it to other instances. */
export async function syncTokenState(sys: UserSystem, user: UserRecord): Promise<void> {
  const rec = userToken(sys, user);
  if (rec && Boolean(rec.disabled) !== !user.isActive) {
    await sys.tokens.update(rec.id, { disabled: user.isActive ? null : true });
  }
}

/** Requests counted for the user's token. */
export async function tokenRequests(sys: UserSystem, users: UserRecord[]): Promise<number[]> {
  const ids = users.map((u) => u.tokenId);
  const counters = await sys.stats.read(ids.filter((id): id is string => !!id).map((id) => statsRecord.token(id)));
  let i = 0;
  return ids.map((id) => (id ? counters[i++].requests ?? 0 : 0));
}

/** Check-in facts for pages: the zone, today there, whether done, and when the next day starts. */
export function checkInInfo(
  sys: UserSystem,
  user: UserRecord,
): { timeZone: string; today: string; signedToday: boolean; nextResetAt: number } {
  const now = sys.now();
  const today = localDay(sys.o.timeZone, now);
  return {
    timeZone: sys.o.timeZone,
    today,
    signedToday: user.lastSignInAt !== undefined && localDay(sys.o.timeZone, user.lastSignInAt) === today,
    nextResetAt: nextDayStart(sys.o.timeZone, now),
  };
}

export { DAY_MS };
