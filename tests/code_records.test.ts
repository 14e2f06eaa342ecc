/**
 * Pending sign-in codes kept in the store (`users:code:<address hash>`): each record lives as
 * long as a code does after it was requested, on every backend (by the backend's own TTL where
 * it has one, by a sweep where it has none: memory and files), so addresses that once asked for
 * a code do not each leave a record behind forever.
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { userKeys } from "../src/store/key_names.ts";
import { Quarantine } from "../src/store/quarantine.ts";
import { createUserStore } from "../src/store/users.ts";
import { CODE_TTL_MS } from "../src/users/codes.ts";
import {
  type Backend,
  type BackendFactory,
  fsBackend,
  memoryBackend,
  needsOf,
  redisBackend,
} from "./helpers/backends.ts";
import { skipUnless } from "./helpers/requires.ts";

const MINUTE = 60_000;
const codePrefix = userKeys.code("").slice(0, -1);

for (const factory of [memoryBackend, fsBackend, redisBackend] as BackendFactory[]) {
  const suite = `sign-in code records expire: ${factory.name.replace(/Backend$/, "")}`;
  describe(suite, skipUnless(suite, ...needsOf(factory)), () => {
    let backend: Backend;
    before(async () => {
      backend = await factory();
    });
    after(() => backend.stop());

    it("a code record stays for the code's lifetime, then goes", async () => {
      const clock = { t: Date.now() };
      const storage = backend.connect();
      const store = createUserStore(storage, new Quarantine(storage, () => {}), () => clock.t);
      const code = (t: number) => ({ purpose: "login" as const, mac: "ab", sentAt: t, expiresAt: t + CODE_TTL_MS });
      await store.putCode("old", code(clock.t));
      clock.t += CODE_TTL_MS - MINUTE;
      await store.putCode("recent", code(clock.t));
      assert.ok(await store.getCode("old"), "still within its lifetime");
      clock.t += 2 * MINUTE; // "old" is over, "recent" is not, and a sweep interval has passed
      await store.putCode("new", code(clock.t));
      const names = (await storage.getKeys(codePrefix)).map((n) => n.split(":").pop()).sort();
      assert.deepEqual(names, ["new", "recent"], "the record past its lifetime is gone");
    });

    it("records never outnumber the addresses of one code lifetime plus a sweep interval", async () => {
      const clock = { t: Date.now() };
      const storage = backend.connect();
      for (const name of await storage.getKeys(codePrefix)) await storage.removeItem(name);
      const store = createUserStore(storage, new Quarantine(storage, () => {}), () => clock.t);
      let most = 0;
      for (let i = 0; i < 120; i++) { // two hours of a new address every minute
        await store.putCode(`address-${i}`, { purpose: "register", mac: "", sentAt: clock.t, expiresAt: 0 });
        most = Math.max(most, (await storage.getKeys(codePrefix)).length);
        clock.t += MINUTE;
      }
      assert.ok(most <= (CODE_TTL_MS + 10 * MINUTE) / MINUTE + 1, `at most ${most} records`);
    });
  });
}
