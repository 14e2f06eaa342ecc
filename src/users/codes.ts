/**
 * Verification codes: six random digits, mailed, kept only as an HMAC, valid 10 minutes, usable
 * once, void after 5 wrong attempts. One pending code per address; a new one replaces it.
 *
 * The attempt counter cannot be skipped: an attempt is counted in the store before the code is
 * compared (atomically on Redis and Postgres; serialized per address within an instance), and
 * the comparison runs only while the count is within the limit.
 * @module
 */
import { randomDigits, timingSafeEqualHex } from "../auth/crypto.ts";
import { hmacHex } from "../auth/derive.ts";
import { PoolError } from "../errors.ts";
import type { CounterSink } from "../store/counters.ts";
import type { UserStore } from "../store/users.ts";
import { serialized } from "./serial.ts";
import { createThrottle } from "./throttle.ts";
import { CODE_TTL_MS, type CodeRecord } from "./types.ts";
import { limitKeys } from "../store/key_names.ts";

export { CODE_TTL_MS } from "./types.ts";
/** Wrong attempts after which a code is void. */
export const MAX_CODE_ATTEMPTS = 5;
/** Least time between two codes to one address. */
export const RESEND_MS = 60_000;
/** Codes per address per day (UTC days). */
export const CODES_PER_DAY = 10;
/** Codes requested from one IP address per hour (against mail-bombing many addresses). */
export const CODES_PER_IP_HOUR = 30;

type Purpose = CodeRecord["purpose"];

function throttled(code: string, message: string, retryMs: number): PoolError {
  const seconds = Math.max(1, Math.ceil(retryMs / 1000));
  return new PoolError(429, code, `${message}; retry in ${seconds} s`, { headers: { "retry-after": String(seconds) } });
}

/** Issues and checks codes for addresses given by their hash. */
export interface CodeBook {
  /** Counts a code request from a client address; 429 past {@link CODES_PER_IP_HOUR}. */
  admitIp(ip: string | undefined): Promise<void>;
  /**
   * After the per-address throttles: a new code for the address, stored, for the caller to mail
   * — or, with `deliver` false (an address that cannot use one), no code, but the same throttle
   * bookkeeping, so a second request within a minute is refused alike for every address.
   */
  issue(emailHash: string, email: string, purpose: Purpose, deliver: boolean): Promise<string | undefined>;
  /** Takes back an issued code whose mail could not be sent, so the address may ask again at once. */
  withdraw(emailHash: string): Promise<void>;
  /** Uses up a code: true once for the right code within its time and attempts. */
  consume(emailHash: string, email: string, purpose: Purpose, code: string): Promise<boolean>;
}

/** The code book over the user store and the pool's counter sink. */
export function createCodeBook(store: UserStore, sink: CounterSink, key: CryptoKey, now: () => number): CodeBook {
  const serial = serialized();
  const perDay = createThrottle("codes-day", 86_400_000, sink, now);
  const perIp = createThrottle("codes-ip", 3_600_000, sink, now);
  const mac = (purpose: Purpose, email: string, code: string): Promise<string> =>
    hmacHex(key, `${purpose}\n${email}\n${code}`);

  return {
    async admitIp(ip) {
      if (!ip) return;
      const r = await perIp.hit(ip, CODES_PER_IP_HOUR);
      if (!r.allowed) throw throttled("code_throttled", "too many codes requested from this address", r.retryMs);
    },
    issue(h, email, purpose, deliver) {
      return serial(h, async () => {
        const t = now();
        const last = await store.getCode(h);
        if (last && t - last.sentAt < RESEND_MS) {
          throw throttled(
            "code_throttled",
            "a code was sent to this address less than a minute ago",
            last.sentAt + RESEND_MS - t,
          );
        }
        const r = await perDay.hit(h, CODES_PER_DAY);
        if (!r.allowed) {
          throw throttled("code_throttled", `at most ${CODES_PER_DAY} codes a day are sent to one address`, r.retryMs);
        }
        if (!deliver) {
          // A pending code stays usable; only the time of this request is kept (for the throttle).
          await store.putCode(h, last ? { ...last, sentAt: t } : { purpose, mac: "", sentAt: t, expiresAt: 0 });
          return undefined;
        }
        const code = randomDigits(6);
        await sink.remove([limitKeys.codeAttempts(h)]);
        await store.putCode(h, {
          purpose,
          mac: await mac(purpose, email, code),
          sentAt: t,
          expiresAt: t + CODE_TTL_MS,
        });
        return code;
      });
    },
    withdraw(h) {
      return serial(h, () => store.removeCode(h));
    },
    consume(h, email, purpose, code) {
      return serial(h, async () => {
        const rec = await store.getCode(h);
        if (!rec || rec.purpose !== purpose || rec.expiresAt <= now()) return false;
        // Count first, then compare: a crash or a parallel request cannot yield a free attempt.
        const record = limitKeys.codeAttempts(h);
        await sink.apply(new Map([[record, { add: { n: 1 }, max: {} }]]));
        const [{ n = 0 }] = await sink.read([record]);
        const ok = n <= MAX_CODE_ATTEMPTS && /^\d{6}$/.test(code) &&
          timingSafeEqualHex(await mac(purpose, email, code), rec.mac);
        if (ok || n >= MAX_CODE_ATTEMPTS) {
          // Used, or void: the record stays without a usable code, so its sentAt still holds the resend throttle.
          await store.putCode(h, { ...rec, mac: "", expiresAt: 0 });
          await sink.remove([record]);
        }
        return ok;
      });
    },
  };
}
