/**
 * Dashboard sessions ended by logging out. The session cookie is stateless (an HMAC over its
 * expiry and a nonce), so clearing it in the browser would leave a copied cookie working until
 * it expires; logging out therefore records the cookie's nonce in the store, where every
 * instance looks for it. Only cookie-authenticated requests (the dashboard's) look: admin-token
 * and proxy requests never touch this.
 * @module
 */
import type { Storage } from "unstorage";
import { PREFIX as KEY_PREFIX } from "../store/key_names.ts";

const PREFIX = `${KEY_PREFIX.adminSessions}:ended`;

/**
 * Most ended nonces remembered in memory (as a shortcut; the store is the truth). Each logout
 * needs a valid session, so only the admin adds to it.
 */
const MAX_REMEMBERED = 1000;

/**
 * How often a logout also sweeps the stored records whose session is over. Memory and file
 * storage have no TTL, so without it every logout would stay forever; where the store has TTLs
 * the sweep finds nothing left to do. Bound: the records alive are the logouts of the last
 * session lifetime (12 hours, ADMIN_SESSION_MS) plus those of one sweep interval.
 */
const SWEEP_EVERY_MS = 10 * 60_000;
/** Records read and removed per round of a sweep (file storage runs out of descriptors beyond a few hundred). */
const SWEEP_BATCH = 256;

/** Ended dashboard sessions, shared through the store. */
export class EndedSessions {
  #storage: Storage;
  #now: () => number;
  #known = new Map<string, number>();
  #lastSweep = -Infinity;

  constructor(storage: Storage, now: () => number) {
    this.#storage = storage;
    this.#now = now;
  }

  /**
   * Ends the session with `nonce`, valid until `expires` (epoch ms): the record lives as long as
   * the session would have (the store's TTL, or the sweep where the store has none).
   */
  async end(nonce: string, expires: number): Promise<void> {
    this.#remember(nonce, expires);
    const ttl = Math.max(1, Math.ceil((expires - this.#now()) / 1000));
    await this.#storage.setItem(`${PREFIX}:${nonce}`, { expires }, { ttl });
    // Best effort: the logout itself is stored; a failed sweep is tried again at a later logout.
    if (this.#now() - this.#lastSweep >= SWEEP_EVERY_MS) await this.sweep().catch(() => 0);
  }

  /** Removes the stored records of sessions that are over (or unreadable); how many it removed. */
  async sweep(): Promise<number> {
    const now = this.#now();
    this.#lastSweep = now;
    const names = await this.#storage.getKeys(PREFIX);
    let removed = 0;
    for (let i = 0; i < names.length; i += SWEEP_BATCH) {
      const items = await this.#storage.getItems<{ expires?: unknown } | null>(names.slice(i, i + SWEEP_BATCH));
      const over = items.filter(({ value }) => !(typeof value?.expires === "number" && value.expires > now));
      await Promise.all(over.map(({ key }) => this.#storage.removeItem(key)));
      removed += over.length;
    }
    return removed;
  }

  /** Whether the session with `nonce` was ended, here or on another instance. */
  async ended(nonce: string): Promise<boolean> {
    if (this.#known.has(nonce)) return true;
    const rec = await this.#storage.getItem<{ expires?: number }>(`${PREFIX}:${nonce}`);
    if (!rec || typeof rec.expires !== "number") return false;
    this.#remember(nonce, rec.expires);
    return true;
  }

  #remember(nonce: string, expires: number): void {
    if (this.#known.size >= MAX_REMEMBERED) {
      const now = this.#now();
      for (const [n, e] of this.#known) if (e <= now) this.#known.delete(n);
      if (this.#known.size >= MAX_REMEMBERED) this.#known.delete(this.#known.keys().next().value!);
    }
    this.#known.set(nonce, expires);
  }
}
