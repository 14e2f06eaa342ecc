/** The user system as the pool holds it: shared parts, self-service and admin operations. @module */
import type { TokenRegistry } from "../auth/tokens.ts";
import type { FetchLike } from "../types.ts";
import type { StatsRecorder } from "../stats/recorder.ts";
import type { CounterSink } from "../store/counters.ts";
import type { Storage } from "unstorage";
import type { Quarantine } from "../store/quarantine.ts";
import { type Accounts, createAccounts } from "./accounts.ts";
import { createUserAdmin, type UserAdmin } from "./manage.ts";
import type { ResolvedUsersOptions } from "./options.ts";
import { createUserSystem, type UserSystem } from "./system.ts";

/** What `PoolState.users` holds when the user system is on. */
export interface Users {
  system: UserSystem;
  accounts: Accounts;
  admin: UserAdmin;
}

/** Builds the user system; nothing is read from storage until a request needs it. */
export function createUsers(
  o: ResolvedUsersOptions,
  deps: {
    storage: Storage;
    tokens: TokenRegistry;
    stats: StatsRecorder;
    sink: CounterSink;
    fetch: FetchLike;
    now: () => number;
    quarantine?: Quarantine;
  },
): Users {
  const system = createUserSystem(o, deps);
  return { system, accounts: createAccounts(system, deps.fetch), admin: createUserAdmin(system) };
}
