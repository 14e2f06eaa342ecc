/**
 * An upstream that answers with a redirect. A `fetch` that follows it drops `Authorization` on
 * the way to another origin, but not a provider's own key header (`x-api-key` here) nor its
 * static headers: the key went to whatever the redirect named. Now the pool follows a redirect
 * only within the provider's origin; one to another origin ends the request with a 502 that names
 * no target and rests no key. Every key-carrying path, every transport.
 * @module
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { createPool, openaiCompatible, type Provider } from "../../mod.ts";
import type { Pool } from "../../src/pool.ts";
import { collectEscapes, TRANSPORTS } from "../helpers/upstream_faults.ts";
import { adminRequest } from "../helpers/setup.ts";
import { sleep } from "../helpers/poll.ts";

const escaped = collectEscapes();
const ADMIN = "redirect-admin-token-0123";
const KEYS = ["rdr-key-SECRET-0001", "rdr-key-SECRET-0002"];
const STATIC_SECRET = "org-STATIC-SECRET-9";

interface Seen {
  url: string;
  method: string;
  headers: IncomingMessage["headers"];
  body: string;
}

async function listen(handle: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ url: req.url ?? "", method: req.method ?? "", headers: req.headers, body });
      handle(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

function answer(res: ServerResponse, path: string): void {
  const json = path.endsWith("/models")
    ? { object: "list", data: [{ id: "m1" }] }
    : path.endsWith("/usage")
    ? { limits: { session: { usage: 0.1 } } }
    : { id: "c1", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: "ok" } }] };
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(json));
}

/** Whether `s` (a header value or URL) shows a secret the pool holds. */
const showsSecret = (s: string) => [...KEYS, STATIC_SECRET].some((k) => s.includes(k));

for (const [transport, makeFetch] of TRANSPORTS) {
  describe(`upstream redirects (${transport})`, () => {
    /** The second origin: records what reached it. */
    let elsewhere: Awaited<ReturnType<typeof listen>>;
    let upstream: Awaited<ReturnType<typeof listen>>;
    /** An alias's second target, on an upstream that never redirects. */
    let good: Awaited<ReturnType<typeof listen>>;
    /** `location`, when set, is sent as it is (odd forms); else `/final…` on this or the other origin. */
    const mode: { status: number; cross: boolean; location?: (url: string) => string | undefined } = {
      status: 302,
      cross: true,
    };
    const clock = { ms: Date.now() };
    let pool: Pool;
    const errors: string[] = [];
    before(async () => {
      elsewhere = await listen((req, _b, res) => answer(res, req.url ?? ""));
      good = await listen((req, _b, res) => answer(res, req.url ?? ""));
      upstream = await listen((req, _b, res) => {
        const url = req.url ?? "";
        if (url.startsWith("/final")) return answer(res, url);
        const location = mode.location ? mode.location(url) : `${mode.cross ? elsewhere.url : ""}/final${url}`;
        res.writeHead(mode.status, location === undefined ? {} : { location }).end("moved");
      });
      const base = openaiCompatible({
        id: "custom",
        baseURL: `${upstream.url}/v1`,
        prefix: "/custom/v1",
        headers: { "x-org": STATIC_SECRET },
      });
      const provider: Provider = {
        ...base,
        authorize: (h, secret) => h.set("x-api-key", secret),
        usage: { url: `${upstream.url}/v1/usage`, read: () => ({ session: 0.1 }) },
      };
      pool = createPool({
        providers: [provider, openaiCompatible({ id: "good", baseURL: `${good.url}/v1`, prefix: "/good/v1" })],
        models: { fast: [{ provider: "custom", model: "m1" }, { provider: "good", model: "m2" }] },
        auth: { adminToken: ADMIN },
        fetch: makeFetch(),
        now: () => clock.ms,
        healthCheck: { usageIntervalMs: 60_000, timeoutMs: 3_000 },
        logger: { info() {}, warn() {}, error: (m: string) => void errors.push(String(m)) },
      });
      await admin("POST", "/admin/api-keys/import?provider=custom", { keys: KEYS });
      await admin("POST", "/admin/api-keys/import?provider=good", { keys: ["good-key-0001"] });
    });
    after(async () => {
      await pool?.close();
      await upstream?.close();
      await good?.close();
      await elsewhere?.close();
      assert.deepEqual(escaped, []);
    });
    const admin = (method: string, path: string, body?: unknown) => pool.fetch(adminRequest(ADMIN, method, path, body));
    const client = async (method: string, path: string, body?: unknown) => {
      const { token } = await (await admin("POST", "/admin/tokens", { name: `t${Math.random()}` })).json();
      return pool.fetch(
        new Request(`http://pool${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
    };
    const chatBody = { model: "m1", messages: [{ role: "user", content: "hi" }] };

    /** Every key-carrying path, with what it answered (for the assertions per mode). */
    async function everyPath(): Promise<Record<string, { status: number; text: string }>> {
      const out: Record<string, { status: number; text: string }> = {};
      const take = async (name: string, res: Response) => (out[name] = { status: res.status, text: await res.text() });
      await take("chat", await client("POST", "/custom/v1/chat/completions", chatBody));
      await take("alias", await client("POST", "/custom/v1/chat/completions", { ...chatBody, model: "fast" }));
      await take("verify", await admin("POST", "/admin/verify-key?provider=custom", { apiKey: "rdr-key-SECRET-0003" }));
      await take("health", await admin("POST", "/admin/keys/health-check?provider=custom&wait=true", {}));
      const fresh = `rdr-key-SECRET-i${mode.status}${mode.cross ? "x" : "s"}`;
      await take(
        "import",
        await admin("POST", "/admin/api-keys/import-with-validation?provider=custom", { content: fresh }),
      );
      const list = await (await admin("GET", "/admin/api-keys?provider=custom")).json();
      out.imported = { status: 0, text: String(list.api_keys.length - KEYS.length) };
      if (list.api_keys.length > KEYS.length) {
        const extra = list.api_keys.slice(KEYS.length).map((k: { id: string }) => k.id);
        await admin("DELETE", "/admin/api-keys?provider=custom", { apiKeys: extra });
      }
      // Usage polls: every key is due again once the clock passed the interval.
      const polls = () => upstream.seen.filter((s) => s.url.endsWith("/v1/usage")).length;
      const before = polls();
      clock.ms += 61_000;
      for (let waited = 0; polls() < before + KEYS.length; waited += 20) {
        if (waited > 10_000) throw new Error("the usage poll did not come");
        pool.tick();
        await sleep(20);
      }
      await sleep(50); // a same-origin poll's second request
      return out;
    }

    for (const status of [301, 302, 307, 308]) {
      it(`${status} to another origin: nothing reaches it, the client gets a 502 naming no target, no key rests`, async () => {
        Object.assign(mode, { status, cross: true });
        errors.length = 0;
        const chatsBefore = upstream.seen.filter((s) => s.url.endsWith("/chat/completions")).length;
        const out = await everyPath();
        // Nothing was sent there at all, so certainly no key.
        assert.deepEqual(elsewhere.seen.map((s) => s.url), []);
        assert.equal(out.chat.status, 502, out.chat.text);
        assert.equal(JSON.parse(out.chat.text).error.code, "upstream_redirect");
        assert.ok(!out.chat.text.includes(elsewhere.url) && !showsSecret(out.chat.text), out.chat.text);
        // One attempt each (the plain route, the alias's first target): every key would meet the
        // same redirect (the provider's address is at fault). The alias then moves on.
        assert.equal(upstream.seen.filter((s) => s.url.endsWith("/chat/completions")).length, chatsBefore + 2);
        assert.equal(out.alias.status, 200, out.alias.text);
        assert.equal(
          good.seen.filter((s) => s.url.endsWith("/chat/completions")).pop()?.headers.authorization,
          "Bearer good-key-0001",
        );
        assert.ok(errors.some((e) => e.includes('provider "custom"') && e.includes("another origin")), errors.join());
        assert.equal(JSON.parse(out.verify.text).valid, false, out.verify.text);
        assert.match(JSON.parse(out.verify.text).error, /redirect/);
        assert.equal(out.imported.text, "0", `validated import: ${out.import.text}`);
        const checked = JSON.parse(out.health.text).results as Array<{ healthy: boolean; error?: string }>;
        assert.deepEqual(checked.map((r) => r.healthy), [false, false], out.health.text);
        const keys = (await (await admin("GET", "/admin/api-keys?provider=custom")).json()).api_keys;
        assert.deepEqual(keys.map((k: { status: string }) => k.status), ["active", "active"]);
      });

      it(`${status} within the origin: followed (307/308 resend the POST), the key never leaves it`, async () => {
        Object.assign(mode, { status, cross: false });
        const out = await everyPath();
        assert.deepEqual(elsewhere.seen.map((s) => s.url), []);
        assert.equal(JSON.parse(out.verify.text).valid, true, out.verify.text);
        const checked = JSON.parse(out.health.text).results as Array<{ healthy: boolean }>;
        assert.deepEqual(checked.map((r) => r.healthy), [true, true], out.health.text);
        assert.equal(out.imported.text, "1", `validated import: ${out.import.text}`);
        if (status === 307 || status === 308) {
          assert.equal(out.chat.status, 200, out.chat.text);
          assert.equal(out.alias.status, 200, out.alias.text);
          const resent = upstream.seen.filter((s) => s.url === "/final/v1/chat/completions").pop()!;
          assert.equal(resent.method, "POST");
          assert.deepEqual(JSON.parse(resent.body), chatBody);
          assert.equal(resent.headers["x-api-key"] !== undefined, true);
        } else {
          // Followed, a 301/302 would turn the completion into a GET: refused instead.
          assert.equal(out.chat.status, 502, out.chat.text);
          assert.match(out.chat.text, /into a GET/);
        }
      });
    }

    it("odd redirects: scheme-relative to another origin, a loop, none without Location", async () => {
      const chat = async () => {
        const res = await client("POST", "/custom/v1/chat/completions", chatBody);
        return { status: res.status, text: await res.text() };
      };
      try {
        Object.assign(mode, { status: 307, location: (url: string) => `//${new URL(elsewhere.url).host}/final${url}` });
        let r = await chat();
        assert.equal(r.status, 502, r.text);
        assert.match(r.text, /another origin/);
        // A loop within the origin ends after 3 hops (4 requests), not at the first-byte timeout.
        const before = upstream.seen.length;
        mode.location = (url) => url;
        r = await chat();
        assert.equal(r.status, 502, r.text);
        assert.match(r.text, /more than 3 redirects/);
        assert.equal(upstream.seen.length - before, 4);
        // A 3xx without Location is no redirect: an answer like any other, passed back.
        mode.location = () => undefined;
        r = await chat();
        assert.equal(r.status, 307, r.text);
        assert.deepEqual(elsewhere.seen.map((s) => s.url), []);
      } finally {
        mode.location = undefined;
      }
    });

    it("the second origin never saw a key, in any header or URL", () => {
      for (const s of elsewhere.seen) {
        assert.ok(!showsSecret(s.url), s.url);
        for (const v of Object.values(s.headers)) assert.ok(!showsSecret(String(v)), String(v));
      }
    });
  });
}
