/**
 * Every storage key name the pool writes, in one place. Records live under a handful of
 * prefixes (unstorage separates segments with ":"); a backend adds its own base in front
 * (`pool:` on Redis, a table on Postgres). Changing a name here orphans data already stored
 * under the old one, so names only ever get added.
 * @module
 */

/** The first segment of every name, one per kind of record. */
export const PREFIX = {
  /** Upstream API keys: `keys:<provider>:<key id>` → KeyRecord (secret included). */
  keys: "keys",
  /** Client tokens: `tokens:<token id>` → TokenRecord (hash only). */
  tokens: "tokens",
  /** Small singletons: `meta:admin` (admin token hash). */
  meta: "meta",
  /** Counter records (hashes of integers), written by the statistics recorder's sink. */
  stats: "stats",
  /** Rate-limit windows of client tokens and addresses: `limits:<counter>:<window number>`. */
  limits: "limits",
  /** Throttles of the user system: `userlimits:<throttle>:<window>:<key>`. */
  userLimits: "userlimits",
  /** User accounts, their address index, pending codes and check-ins. */
  users: "users",
  /** The shared response cache (`cache.shared`): `cache:<request hash>`. */
  cache: "cache",
  /**
   * The change feed between instances: `events:<time>-<instance>-<n>`, kept two minutes, and
   * `events:version`, the name of the latest event (one cheap read tells a poller whether to list).
   */
  events: "events",
  /** The request log, in segments: `logs:<YYYYMMDDHH>:<maxT>-<minT>-<instance>-<seq>` (logs/segments.ts). */
  logs: "logs",
  /** Dashboard logouts: `adminsessions:ended:<nonce>`, kept until the session would have expired. */
  adminSessions: "adminsessions",
  /** Unreadable records set aside: `quarantine:<original name>` (store/quarantine.ts). */
  quarantine: "quarantine",
} as const;

/** Keys and tokens. */
export const poolKeys = {
  key: (provider: string, id: string): string => `${PREFIX.keys}:${provider}:${id}`,
  keysOf: (provider: string): string => `${PREFIX.keys}:${provider}`,
  token: (id: string): string => `${PREFIX.tokens}:${id}`,
  meta: (name: string): string => `${PREFIX.meta}:${name}`,
};

/** Counter record names; the field layout of each is documented at its writer (stats/recorder.ts). */
export const statsKeys = {
  global: (provider: string): string => `${PREFIX.stats}:global:${provider}`,
  models: (provider: string): string => `${PREFIX.stats}:model:${provider}`,
  day: (provider: string, day: string): string => `${PREFIX.stats}:hour:${provider}:${day}`,
  dayModels: (provider: string, day: string): string => `${PREFIX.stats}:daymodel:${provider}:${day}`,
  /** Failed requests of a day by the pool's error code: "<code>|<HH>" fields. */
  dayErrors: (provider: string, day: string): string => `${PREFIX.stats}:dayerror:${provider}:${day}`,
  token: (tokenId: string): string => `${PREFIX.stats}:token:${tokenId}`,
  key: (provider: string, keyId: string): string => `${PREFIX.stats}:key:${provider}:${keyId}`,
};

/** Window counters of the rate limits and the user system's throttles. */
export const limitKeys = {
  window: (counter: string, window: number): string => `${PREFIX.limits}:${counter}:${window}`,
  throttle: (name: string, window: number, key: string): string => `${PREFIX.userLimits}:${name}:${window}:${key}`,
  codeAttempts: (emailHash: string): string => `${PREFIX.userLimits}:code-attempts:${emailHash}`,
};

/**
 * User records: `users:rec:<id>`, an address index `users:email:<sha256 of the lower-cased
 * address>` → id, the pending code per address `users:code:<address hash>`, and check-ins
 * `users:signin:<id>:<YYYY-MM-DD>` (one item per day, so "already checked in" is a read).
 */
export const userKeys = {
  records: `${PREFIX.users}:rec`,
  record: (id: string): string => `${PREFIX.users}:rec:${id}`,
  email: (emailHash: string): string => `${PREFIX.users}:email:${emailHash}`,
  code: (emailHash: string): string => `${PREFIX.users}:code:${emailHash}`,
  signIns: (id: string): string => `${PREFIX.users}:signin:${id}`,
  signIn: (id: string, day: string): string => `${PREFIX.users}:signin:${id}:${day}`,
};

/** The response cache and the change feed. */
export const cacheKey = (hash: string): string => `${PREFIX.cache}:${hash}`;
export const eventKey = (name: string): string => `${PREFIX.events}:${name}`;
export const feedVersionKey = `${PREFIX.events}:version`;
