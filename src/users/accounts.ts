/**
 * Self-service: send a code, register, log in by password or code, sessions, the daily check-in,
 * the profile and the check-in history. Logging in never issues a new client token: the token
 * comes once, at registration, and is kept alive by checking in (the original's loophole was a
 * fresh token per login).
 * @module
 */
import { hashIterations, hashPassword, MAX_PASSWORD_LENGTH, verifyPassword } from "../auth/password.ts";
import { badRequest, PoolError } from "../errors.ts";
import type { FetchLike } from "../types.ts";
import { localDay } from "./calendar.ts";
import { CODE_TTL_MS } from "./codes.ts";
import { codeMail } from "./messages.ts";
import { checkSessionUser, createSession, readSession } from "./session.ts";
import {
  DAY_MS,
  emailKey,
  extendUserToken,
  issueUserToken,
  newUserId,
  normalEmail,
  type UserSystem,
} from "./system.ts";
import { createThrottle } from "./throttle.ts";
import { verifyTurnstile } from "./turnstile.ts";
import type { UserRecord } from "./types.ts";
import { type Profile, profile } from "./views.ts";

/** Login attempts per address, and per client IP, in {@link LOGIN_WINDOW_MS}. */
export const LOGIN_PER_EMAIL = 10;
export const LOGIN_PER_IP = 30;
export const LOGIN_WINDOW_MS = 15 * 60_000;

/** What register and login answer: a session and the profile. */
export interface AuthResult {
  token: string;
  expiresAt: number;
  user: Profile;
}

/** The request facts the operations need besides the body. */
export interface Caller {
  ip?: string;
}

type Body = Record<string, unknown>;

const purposeOf = (v: unknown): "register" | "login" => {
  if (v === "register" || v === "login") return v;
  throw badRequest('\'purpose\' must be "register" or "login"', "invalid_purpose");
};

const text = (body: Body, name: string): string | undefined => {
  const v = body[name];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw badRequest(`'${name}' must be a string`, "invalid_field");
  return v;
};

/** The self-service operations. */
export interface Accounts {
  sendCode(body: Body, caller: Caller): Promise<void>;
  register(body: Body, caller: Caller): Promise<AuthResult>;
  login(body: Body, caller: Caller): Promise<AuthResult>;
  /** The user of a session token (`Authorization: Bearer`); 401/403 otherwise. */
  authenticate(token: string | undefined): Promise<UserRecord>;
  logout(user: UserRecord): Promise<void>;
  checkIn(user: UserRecord): Promise<{ keyExpiresAt: number }>;
  profile(user: UserRecord): Promise<Profile>;
}

export function createAccounts(sys: UserSystem, doFetch: FetchLike): Accounts {
  const o = sys.o;
  const loginPerEmail = createThrottle("login-email", LOGIN_WINDOW_MS, sys.sink, sys.now);
  const loginPerIp = createThrottle("login-ip", LOGIN_WINDOW_MS, sys.sink, sys.now);

  const turnstile = async (body: Body, caller: Caller): Promise<void> => {
    if (!o.turnstile) return;
    await verifyTurnstile(o.turnstile, doFetch, body.turnstileToken, caller.ip);
  };
  const findUser = async (email: string): Promise<UserRecord | null> => {
    const id = await sys.store.idByEmail(emailKey(email));
    return id ? sys.store.get(id) : null;
  };
  const session = async (user: UserRecord): Promise<AuthResult> => {
    const s = await createSession((await sys.keys()).session, user, sys.now(), o.sessionTtlSeconds);
    return { ...s, user: await profile(sys, user) };
  };
  const password = (body: Body): string => {
    const p = text(body, "password") ?? "";
    if (p.length < o.passwordMinLength) {
      throw badRequest(`'password' must have at least ${o.passwordMinLength} characters`, "weak_password");
    }
    if (p.length > MAX_PASSWORD_LENGTH) {
      throw badRequest(`'password' must have at most ${MAX_PASSWORD_LENGTH} characters`, "invalid_password");
    }
    return p;
  };
  // Made once, now, so not even the first unknown address pays for making it.
  const dummyHash = hashPassword(crypto.randomUUID(), o.pbkdf2Iterations);
  const limited = (retryMs: number, what: string): PoolError => {
    const s = Math.max(1, Math.ceil(retryMs / 1000));
    return new PoolError(429, "login_throttled", `too many sign-in attempts ${what}; retry in ${s} s`, {
      headers: { "retry-after": String(s) },
    });
  };

  return {
    async sendCode(body, caller) {
      const email = normalEmail(body.email);
      const purpose = purposeOf(body.purpose);
      await turnstile(body, caller);
      const codes = await sys.codes();
      await codes.admitIp(caller.ip); // before any lookup: a flood costs counters, not user reads
      // The answer is the same whether or not the address is registered (or disabled), so it
      // tells nobody who has an account; only an address that can use the code gets one.
      const user = await findUser(email);
      const deliver = purpose === "register" ? user === null : user !== null && user.isActive;
      const h = emailKey(email);
      const code = await codes.issue(h, email, purpose, deliver);
      if (code === undefined) return;
      try {
        await o.mailer.send(codeMail({ to: email, purpose, code, appName: o.appName, minutes: CODE_TTL_MS / 60_000 }));
      } catch (err) {
        await codes.withdraw(h);
        // The mailer's own words can name internal hosts and accounts: they go to the log only.
        o.logger.error(`[ollama-api-pool] [users] mail to a user could not be sent: ${(err as Error)?.message ?? err}`);
        throw new PoolError(502, "mail_failed", "the code could not be sent; try again later");
      }
    },

    async register(body, caller) {
      const email = normalEmail(body.email);
      const pw = password(body);
      const code = text(body, "code");
      if (!code) throw badRequest("'code' is required: request one with POST /api/auth/send-code", "missing_field");
      await turnstile(body, caller);
      const h = emailKey(email);
      return sys.serial(h, async () => {
        // The code first: a registered address never gets a register code, so without this
        // order anyone could ask whether an address is registered.
        if (!(await (await sys.codes()).consume(h, email, "register", code))) {
          throw badRequest("the code is wrong, expired or used up; request a new one", "invalid_code");
        }
        if (await findUser(email)) {
          throw badRequest("this email is already registered; sign in instead", "email_registered");
        }
        const now = sys.now();
        const user: UserRecord = {
          id: newUserId(now),
          email,
          role: "user",
          isActive: true,
          password: await hashPassword(pw, o.pbkdf2Iterations),
          createdAt: now,
          lastLoginAt: now,
          sessionVersion: 1,
        };
        await issueUserToken(sys, user, o.tokenValidityDays * 86_400);
        await sys.store.put(user, h);
        return session(user);
      });
    },

    async login(body, caller) {
      const email = normalEmail(body.email);
      const pw = text(body, "password");
      const code = text(body, "code");
      if (!pw && !code) throw badRequest("'password' or 'code' is required", "missing_field");
      if (pw && pw.length > MAX_PASSWORD_LENGTH) {
        throw new PoolError(401, "invalid_credentials", "wrong email, password or code");
      }
      const h = emailKey(email);
      // Throttles first, before any hashing: a flood costs storage counters, not PBKDF2 work.
      // The network address first: a sender already refused adds no per-address records.
      if (caller.ip) {
        const byIp = await loginPerIp.hit(caller.ip, LOGIN_PER_IP);
        if (!byIp.allowed) throw limited(byIp.retryMs, "from this network address");
      }
      const byEmail = await loginPerEmail.hit(h, LOGIN_PER_EMAIL);
      if (!byEmail.allowed) throw limited(byEmail.retryMs, "for this address");
      const found = await findUser(email);
      // An unknown address spends the same PBKDF2 time on a dummy hash: the answer's timing
      // must not tell who is registered.
      const ok = pw
        ? await verifyPassword(pw, found?.password ?? await dummyHash) && found !== null
        : found !== null && await (await sys.codes()).consume(h, email, "login", code!);
      if (!found || !ok) throw new PoolError(401, "invalid_credentials", "wrong email, password or code");
      if (!found.isActive) throw new PoolError(403, "user_disabled", "this account is disabled");
      return sys.serial(found.id, async () => {
        const user = (await sys.store.get(found.id)) ?? found;
        user.lastLoginAt = sys.now();
        if (pw && hashIterations(user.password) < o.pbkdf2Iterations) {
          user.password = await hashPassword(pw, o.pbkdf2Iterations);
        }
        await sys.store.put(user, h);
        return session(user);
      });
    },

    async authenticate(token) {
      const { userId, version } = await readSession((await sys.keys()).session, token, sys.now());
      return checkSessionUser(await sys.store.get(userId), version);
    },

    logout(user) {
      return sys.serial(user.id, async () => {
        const fresh = (await sys.store.get(user.id)) ?? user;
        fresh.sessionVersion += 1;
        await sys.store.put(fresh, emailKey(fresh.email));
      });
    },

    checkIn(user) {
      return sys.serial(user.id, async () => {
        const fresh = (await sys.store.get(user.id)) ?? user;
        const now = sys.now();
        const day = localDay(o.timeZone, now);
        if (await sys.store.hasSignIn(fresh.id, day)) {
          throw badRequest(`already checked in today (${day}, ${o.timeZone})`, "already_signed_in");
        }
        if (!fresh.tokenId || !sys.tokens.get(fresh.tokenId)) {
          throw new PoolError(409, "no_token", "this account has no client token; ask an admin to reset it");
        }
        const capMs = o.maxValidityDays === undefined ? undefined : o.maxValidityDays * DAY_MS;
        const keyExpiresAt = (await extendUserToken(sys, fresh, DAY_MS, capMs))!;
        await sys.store.putSignIn(fresh.id, { id: `${fresh.id}:${day}`, signDay: day, createdAt: now });
        fresh.lastSignInAt = now;
        await sys.store.put(fresh, emailKey(fresh.email));
        return { keyExpiresAt };
      });
    },

    profile: (user) => profile(sys, user),
  };
}
