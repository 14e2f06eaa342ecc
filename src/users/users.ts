/** The user system as the pool holds it: shared parts, self-service and admin operations. @module */
import type { FetchLike } from "../types.ts";
import { type Accounts, createAccounts } from "./accounts.ts";
import { createUserAdmin, type UserAdmin } from "./manage.ts";
import type { ResolvedUsersOptions } from "./options.ts";
import { createUserSystem, type UserSystem, type UserSystemDeps } from "./system.ts";

/** What `PoolState.users` holds when the user system is on. */
export interface Users {
  system: UserSystem;
  accounts: Accounts;
  admin: UserAdmin;
}

/** Builds the user system; nothing is read from storage until a request needs it. */
export function createUsers(
  o: ResolvedUsersOptions,
  deps: UserSystemDeps & { fetch: FetchLike },
): Users {
  const system = createUserSystem(o, deps);
  return { system, accounts: createAccounts(system, deps.fetch), admin: createUserAdmin(system) };
}
