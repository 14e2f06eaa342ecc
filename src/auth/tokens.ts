/**
 * Client tokens: issued once, stored as SHA-256, looked up in memory on every request.
 * @module
 */
import { sha256Hex } from "../keys/secrets.ts";
import type { ChangeFeed } from "../store/feed.ts";
import type { PoolStore } from "../store/store.ts";
import { newClientToken } from "./crypto.ts";
import { sha256HexSync } from "./sha256.ts";
import type { TokenLink, TokenPolicy, TokenRecord } from "./types.ts";

/** A token record as shown to admins (never the hash). */
export interface TokenView {
  id: string;
  name: string;
  token: string;
  createdAt: number;
  expiresAt: number | null;
  expired: boolean;
  allowedModels: string[] | null;
  rpm: number | null;
  tpm: number | null;
  quota: number | null;
  /** The user the token belongs to (user system), else null. */
  userId: string | null;
  disabled: boolean;
}

/** The in-memory registry of client tokens, backed by the store. */
export class TokenRegistry {
  #byHash = new Map<string, TokenRecord>();
  #byId = new Map<string, TokenRecord>();
  #store: PoolStore;
  #feed: ChangeFeed;
  #now: () => number;

  constructor(store: PoolStore, feed: ChangeFeed, now: () => number) {
    this.#store = store;
    this.#feed = feed;
    this.#now = now;
  }

  async load(): Promise<void> {
    for (const rec of await this.#store.listTokens()) this.#index(rec);
  }

  get size(): number {
    return this.#byId.size;
  }

  /**
   * The record for a presented token, or undefined when unknown or expired. The lookup is by
   * SHA-256 of the input, so its timing tells nothing about any stored token. Synchronous: it runs
   * on every proxied request.
   */
  verify(token: string): TokenRecord | undefined {
    const rec = this.#byHash.get(sha256HexSync(token));
    if (!rec) return undefined;
    if (rec.expiresAt !== undefined && rec.expiresAt <= this.#now()) return undefined;
    if (rec.disabled) return undefined; // its user is disabled
    return rec;
  }

  /** The record with this id, expired or disabled ones included. */
  get(id: string): TokenRecord | undefined {
    return this.#byId.get(id);
  }

  /** Issues a token; the plain value is returned here and never again. */
  async create(
    name: string,
    expiresInSeconds?: number,
    policy: TokenPolicy & TokenLink = {},
  ): Promise<{ token: string; record: TokenRecord }> {
    const token = newClientToken();
    const hash = await sha256Hex(token);
    const now = this.#now();
    const record: TokenRecord = {
      id: hash.slice(0, 16),
      name,
      hash,
      hint: `${token.slice(0, 5)}…${token.slice(-4)}`,
      createdAt: now,
      ...(expiresInSeconds ? { expiresAt: now + expiresInSeconds * 1000 } : {}),
      ...withoutUndefined(policy),
    };
    await this.#store.putToken(record);
    this.#index(record);
    await this.#feed.publish({ kind: "tokens", ids: [record.id] });
    return { token, record };
  }

  /** Revokes by id or by the plain token. Returns the revoked record. */
  async revoke(idOrToken: string): Promise<TokenRecord | undefined> {
    const rec = this.#byId.get(idOrToken) ?? this.#byHash.get(sha256HexSync(idOrToken));
    if (!rec) return undefined;
    await this.#store.removeToken(rec.id);
    this.#unindex(rec);
    await this.#feed.publish({ kind: "tokens", ids: [rec.id] });
    return rec;
  }

  /** Changes a token's policy (null clears a field) or expiry. Returns the new record. */
  async update(
    id: string,
    patch: { [K in keyof (TokenPolicy & TokenLink)]?: (TokenPolicy & TokenLink)[K] | null } & {
      expiresAt?: number | null;
      name?: string;
    },
  ): Promise<TokenRecord | undefined> {
    const old = this.#byId.get(id);
    if (!old) return undefined;
    const rec: TokenRecord = { ...old };
    for (const [k, v] of Object.entries(patch) as Array<[keyof TokenRecord, unknown]>) {
      if (v === undefined) continue;
      if (v === null) delete rec[k];
      else (rec as unknown as Record<string, unknown>)[k] = v;
    }
    await this.#store.putToken(rec);
    this.#unindex(old);
    this.#index(rec);
    await this.#feed.publish({ kind: "tokens", ids: [rec.id] });
    return rec;
  }

  /** Takes tokens another instance created or revoked. */
  async apply(ids: string[]): Promise<void> {
    for (const id of ids) {
      const rec = await this.#store.getToken(id);
      const old = this.#byId.get(id);
      if (old) this.#unindex(old);
      if (rec) this.#index(rec);
    }
  }

  #unindex(rec: TokenRecord): void {
    this.#byId.delete(rec.id);
    this.#byHash.delete(rec.hash);
  }

  list(): TokenRecord[] {
    return [...this.#byId.values()].sort((a, b) => b.createdAt - a.createdAt);
  }

  view(rec: TokenRecord): TokenView {
    return {
      id: rec.id,
      name: rec.name,
      token: rec.hint,
      createdAt: rec.createdAt,
      expiresAt: rec.expiresAt ?? null,
      expired: rec.expiresAt !== undefined && rec.expiresAt <= this.#now(),
      allowedModels: rec.allowedModels ?? null,
      rpm: rec.rpm ?? null,
      tpm: rec.tpm ?? null,
      quota: rec.quota ?? null,
      userId: rec.userId ?? null,
      disabled: rec.disabled === true,
    };
  }

  #index(rec: TokenRecord): void {
    this.#byHash.set(rec.hash, rec);
    this.#byId.set(rec.id, rec);
  }
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
