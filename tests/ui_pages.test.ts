/** Pages in-process: login and the session cookie, CSRF guard, CSP, assets, escaping, mounting. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Hono } from "hono";
import { StatsPage } from "../src/ui/pages/stats.tsx";
import { ADMIN, setupPool, type TestPool } from "./helpers/setup.ts";

const HOSTILE = `<img src=x onerror="globalThis.__xss=1">`;

describe("web UI pages", () => {
  let t: TestPool;
  before(async () => {
    t = await setupPool({ keys: [] });
  });
  after(() => t.close());

  const get = (path: string, headers: Record<string, string> = {}) =>
    t.pool.fetch(new Request(`http://pool${path}`, { headers }));
  const login = (token: string) =>
    t.pool.fetch(
      new Request("http://pool/ui/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token }).toString(),
      }),
    );
  const sessionCookie = async (): Promise<string> => {
    const res = await login(ADMIN);
    assert.equal(res.status, 303);
    return res.headers.get("set-cookie")!.split(";")[0];
  };

  it("shows the login form without a session and sets a strict HttpOnly cookie on the right token only", async () => {
    const anon = await get("/");
    assert.equal(anon.status, 200);
    assert.match(await anon.text(), /Admin login/);
    const bad = await login("wrong");
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get("set-cookie"), null);
    assert.match(await bad.text(), /not the admin token/);
    const good = await login(ADMIN);
    const cookie = good.headers.get("set-cookie") ?? "";
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.equal(good.headers.get("location"), "/");
    const dash = await get("/?tab=tokens", { cookie: cookie.split(";")[0] });
    const html = await dash.text();
    assert.match(html, /id="token-create"/);
    assert.doesNotMatch(html, new RegExp(ADMIN), "the admin token never appears in a page");
  });

  it("accepts the cookie on admin reads, and on writes only with the x-pool-ui header", async () => {
    const cookie = await sessionCookie();
    assert.equal((await get("/admin/tokens", { cookie })).status, 200);
    const post = (headers: Record<string, string>) =>
      t.pool.fetch(
        new Request("http://pool/admin/tokens", {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ name: "ui" }),
        }),
      );
    const forged = await post({ cookie });
    assert.equal(forged.status, 401);
    assert.equal((await forged.json()).error.code, "invalid_admin_token");
    assert.equal((await post({ cookie, "x-pool-ui": "1" })).status, 201);
    assert.equal(
      (await post({ cookie: "pool_admin=9999999999999.abc.def", "x-pool-ui": "1" })).status,
      401,
      "a forged signature is refused",
    );
  });

  it("refuses an expired or tampered session cookie", async () => {
    const cookie = await sessionCookie();
    const [, value] = cookie.split("=");
    const [exp, nonce, sig] = value.split(".");
    const tampered = `pool_admin=${Number(exp) + 1000}.${nonce}.${sig}`;
    assert.equal((await get("/admin/tokens", { cookie: tampered })).status, 401);
    const expired = `pool_admin=${Date.now() - 1}.${nonce}.${sig}`;
    assert.equal((await get("/admin/tokens", { cookie: expired })).status, 401);
    assert.match(await (await get("/", { cookie: tampered })).text(), /Admin login/);
  });

  it("slows down login guessing per client address, without a shared bucket for unknown ones", async () => {
    const p = await setupPool({ keys: [], clientIp: (req) => req.headers.get("x-test-ip") ?? undefined });
    const attempt = (ip?: string) =>
      p.pool.fetch(
        new Request("http://pool/ui/login", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", ...(ip ? { "x-test-ip": ip } : {}) },
          body: "token=wrong",
        }),
      );
    for (let i = 0; i < 20; i++) assert.equal((await attempt("192.0.2.1")).status, 401);
    const limited = await attempt("192.0.2.1");
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get("retry-after")) > 0);
    assert.match(await limited.text(), /Too many login attempts/);
    assert.equal((await attempt("192.0.2.2")).status, 401, "another address is not affected");
    for (let i = 0; i < 25; i++) assert.equal((await attempt()).status, 401, "no address known: never locked out");
    await p.close();
  });

  it("marks the cookie Secure over https, also behind a TLS-terminating proxy", async () => {
    const direct = await t.pool.fetch(
      new Request("https://pool/ui/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `token=${ADMIN}`,
      }),
    );
    assert.match(direct.headers.get("set-cookie")!, /; Secure/);
    const proxied = await t.pool.fetch(
      new Request("http://pool/ui/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-proto": "https" },
        body: `token=${ADMIN}`,
      }),
    );
    assert.match(proxied.headers.get("set-cookie")!, /; Secure/);
    assert.doesNotMatch(
      (await login(ADMIN)).headers.get("set-cookie")!,
      /Secure/,
      "plain http on localhost keeps working",
    );
  });

  it("logs out by clearing the cookie", async () => {
    const res = await t.pool.fetch(new Request("http://pool/ui/logout", { method: "POST" }));
    assert.equal(res.status, 303);
    assert.match(res.headers.get("set-cookie") ?? "", /pool_admin=;.*Max-Age=0/);
  });

  it("sends a strict CSP and no external resource on every page", async () => {
    for (const path of ["/", "/stats"]) {
      const res = await get(path);
      const csp = res.headers.get("content-security-policy") ?? "";
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      const html = await res.text();
      assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, `${path} loads nothing from another origin`);
      assert.doesNotMatch(html, /<script>|style="/, `${path} has no inline script or style`);
    }
  });

  it("serves assets with a content hash, long caching and 304 on a matching ETag", async () => {
    const html = await (await get("/stats")).text();
    const href = /href="(\/assets\/app\.css\?v=[0-9a-f]+)"/.exec(html)![1];
    const res = await get(href);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("cache-control")!, /immutable/);
    assert.match(res.headers.get("content-type")!, /text\/css/);
    const etag = res.headers.get("etag")!;
    assert.equal((await get(href, { "if-none-match": etag })).status, 304);
    assert.match((await get("/assets/app.css?v=old")).headers.get("cache-control")!, /max-age=300/);
    const missing = await get("/assets/nope.js");
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, "not_found");
  });

  it("escapes a hostile model name on /stats and draws the 24-hour chart", async () => {
    await t.setKeys(["good-key-1"]);
    const res = await t.call("/v1/chat/completions", {
      method: "POST",
      body: JSON.stringify({ model: HOSTILE, messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(res.status, 200);
    await res.text();
    await t.pool.flush();
    const html = await (await get("/stats")).text();
    assert.ok(!html.includes("<img"), "the raw tag never reaches the page");
    assert.match(
      html,
      /<td class="model">_img_src_x_onerror__globalThis\.__xss_1__<\/td>/,
      "model names are stored reduced to name characters",
    );
    assert.match(html, /<svg viewBox="0 0 720 220" role="img"/);
    assert.equal((html.match(/class="bar-ok"/g) ?? []).length, 24);
    assert.match(html, /<meta http-equiv="refresh" content="30"/);
  });

  it("escapes names in the page itself too, whatever the stats hold", () => {
    const stats = {
      provider: "ollama",
      total_requests: 1,
      success_count: 1,
      failure_count: 0,
      success_rate: 100,
      total_tokens: 3,
      keys: { total: 1, active: 1, cooling: 0, disabled: 0 },
      top_models: [{ model: HOSTILE, requests: 1 }],
      top_models_24h: [],
      hourly: [{ hour: "2026-11-27T07:00:00.000Z", requests: 1, success: 1, failure: 0 }],
      timestamp: "2026-11-27T07:00:00.000Z",
    };
    const html = String(StatsPage({ base: "", stats, providers: ["ollama", HOSTILE] }));
    assert.ok(!html.includes("<img"), "no tag from the data");
    assert.ok(html.includes("&lt;img src=x onerror=&quot;globalThis.__xss=1&quot;&gt;"), "shown as text");
  });

  it("rejects an unknown provider on a page with the OpenAI error shape", async () => {
    const res = await get("/stats?provider=nope");
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, "unknown_provider");
  });

  it("links pages and assets under the mount point when mounted in another app", async () => {
    const host = new Hono();
    host.route("/llm", t.pool.app);
    const res = await host.fetch(new Request("http://host/llm/stats"));
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /href="\/llm\/assets\/app\.css\?v=/);
    assert.match(html, /href="\/llm\/api-docs"/);
    const css = await host.fetch(new Request(`http://host${/href="(\/llm\/assets\/app\.css[^"]*)"/.exec(html)![1]}`));
    assert.equal(css.status, 200);
    const loginRes = await host.fetch(
      new Request("http://host/llm/ui/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `token=${ADMIN}`,
      }),
    );
    assert.equal(loginRes.headers.get("location"), "/llm/");
    assert.match(
      loginRes.headers.get("set-cookie")!,
      /; Path=\/llm;/,
      "the host app's other routes never get the cookie",
    );
  });

  it("never builds links or redirects from a hostile base when mounted at a parameter", async () => {
    const host = new Hono();
    host.route("/:tenant", t.pool.app);
    const ok = await host.fetch(new Request("http://host/acme/stats"));
    assert.match(await ok.text(), /href="\/acme\/api-docs"/);
    const res = await host.fetch(new Request("http://host/%5C%5Cevil.example/stats"));
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.ok(!html.includes("evil.example"), "the base is dropped, not echoed");
    const login = await host.fetch(
      new Request("http://host/%2F%2Fevil.example/ui/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `token=${ADMIN}`,
      }),
    );
    assert.equal(login.headers.get("location"), "/");
  });
});
