/**
 * Fault suite, hostile input: a client's value repeated in an error message is cut short. An
 * unknown provider, a path no route has, a field name: each came back
 * whole, so one request the size of a URL (or of a body) made an answer as large, on public routes too.
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setupPool, type TestPool } from "../helpers/setup.ts";

const LONG = "x".repeat(10_000);
/** The longest message a capped echo of one value may make (the value's 64 characters plus the words around it). */
const MAX_MESSAGE = 300;

describe("fault suite: echoed client values are capped", () => {
  let t: TestPool;
  before(async () => {
    t = await setupPool({ keys: ["good-echo-key-00001"] });
  });
  after(() => t.close());

  const message = async (res: Response, status: number) => {
    const text = await res.text();
    assert.equal(res.status, status, text.slice(0, 200));
    const body = JSON.parse(text);
    return (body.error?.message ?? body.message) as string;
  };

  it("an unknown provider on the public /admin/public-stats", async () => {
    const m = await message(await t.call(`/admin/public-stats?provider=${LONG}`, { headers: {} }), 400);
    assert.ok(m.length < MAX_MESSAGE, `${m.length} characters`);
    assert.match(m, /"x{64}"…/);
  });

  it("an unknown provider in an admin body", async () => {
    const m = await message(
      await t.admin("POST", "/admin/api-keys", { api_key: "good-echo-key-00002", provider: LONG }),
      400,
    );
    assert.ok(m.length < MAX_MESSAGE, `${m.length} characters`);
  });

  it("a path no route has", async () => {
    const m = await message(await t.call(`/${LONG}`, { headers: {} }), 404);
    assert.ok(m.length < MAX_MESSAGE, `${m.length} characters`);
  });
});
