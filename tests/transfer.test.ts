/**
 * Export, import, migrate: a pool's whole state (keys with their state, tokens, the admin
 * credential, users and check-ins, statistics, the request log, records set aside as unreadable)
 * goes filesystem → Redis → Upstash (REST) → Postgres → filesystem through real servers and comes
 * out equal at every hop; importing twice changes nothing; a pool started on the last store serves
 * with what the first one held.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Storage } from "unstorage";
import { createPool, ollama } from "../mod.ts";
import { counterSinkFor } from "../src/store/sinks.ts";
import {
  EXPORTED_COUNTERS,
  EXPORTED_ITEMS,
  type ExportLine,
  exportLines,
  importLines,
  TRANSIENT_PREFIXES,
} from "../src/store/transfer.ts";
import { createUserStore } from "../src/store/users.ts";
import type { UserRecord } from "../src/users/types.ts";
import { type Backend, fsBackend, postgresBackend, redisBackend, upstashBackend } from "./helpers/backends.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { skipUnless } from "./helpers/requires.ts";

const quiet = { info() {}, warn() {}, error() {} };

async function exportOf(storage: Storage): Promise<ExportLine[]> {
  const out: ExportLine[] = [];
  for await (const line of exportLines(storage, counterSinkFor(storage), "test")) out.push(line);
  return out;
}

/** The records of an export, without the header (time, source), as comparable text in one order. */
const records = (lines: ExportLine[]): string[] =>
  lines.filter((l) => !("format" in l)).map((l) => JSON.stringify(l)).sort();

async function* text(lines: ExportLine[]): AsyncGenerator<string> {
  for (const l of lines) yield JSON.stringify(l);
}

describe("export / import / migrate across backends", {
  timeout: 120_000,
  ...skipUnless("export / import / migrate across backends", "redis-server", "postgresql", "websockify"),
}, () => {
  let mock: MockUpstream;
  const backends: Backend[] = [];
  let fsDir: string;
  let source: Storage;
  let adminToken = "";
  let clientToken = "";
  before(async () => {
    mock = await startMockUpstream({});
    const fsA = await fsBackend();
    backends.push(fsA, await redisBackend(), await upstashBackend(), await postgresBackend(), await fsBackend());
    source = fsA.connect();
    fsDir = (source.getMount("").driver.options as { base: string }).base;

    // A pool that has lived a little: keys (one disabled), tokens, a user, traffic, a torn record.
    const pool = createPool({
      providers: [ollama({ baseURL: mock.url })],
      storage: source,
      auth: { onAdminTokenGenerated: (t) => (adminToken = t) },
      logger: quiet,
    });
    await pool.ready();
    const admin = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
    const call = (path: string, init: RequestInit = {}) =>
      pool.fetch(new Request(`http://pool${path}`, { ...init, headers: { ...admin, ...init.headers } }));
    const lines = Array.from(
      { length: 1200 },
      (_, i) => `me@x.io----pw----s----good-transfer-${String(i).padStart(5, "0")}`,
    ).join("\n");
    assert.equal(
      (await call("/admin/api-keys/import-from-txt", { method: "POST", body: JSON.stringify({ content: lines }) }))
        .status,
      200,
    );
    const [first] = await pool.state.store.listKeys("ollama");
    await pool.state.store.putKeys([
      { ...first, state: "disabled", failures: 3, disabledUntil: 1_900_000_000_000 } as typeof first,
    ]);
    clientToken = (await (await call("/admin/tokens", {
      method: "POST",
      body: JSON.stringify({ name: "moving", quota: 1_000_000 }),
    })).json()).token;
    for (let i = 0; i < 3; i++) {
      const r = await pool.fetch(
        new Request("http://pool/v1/chat/completions", {
          method: "POST",
          headers: { authorization: `Bearer ${clientToken}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] }),
        }),
      );
      assert.equal(r.status, 200);
      await r.text();
    }
    const users = createUserStore(source);
    const user: UserRecord = {
      id: "u0001",
      email: "a@b.c",
      role: "user",
      isActive: true,
      password: "pbkdf2-sha256$100000$s$h",
      createdAt: 1,
      sessionVersion: 1,
    };
    await users.put(user, "e".repeat(64));
    await users.putSignIn(user.id, { id: "s1", signDay: "2026-11-27", createdAt: 2 });
    await users.putCode("e".repeat(64), { purpose: "login", mac: "m", sentAt: 1, expiresAt: 2 }); // transient: not exported
    await pool.close(); // flushes statistics
    await writeFile(join(fsDir, "tokens", "torn-one"), '{"id":"torn-one","ha');
    await mkdir(join(fsDir, "stats", "token"), { recursive: true });
    await writeFile(join(fsDir, "stats", "token", "torn-two"), '{"requests":4,"succ');
  });
  after(async () => {
    await mock?.close();
    for (const b of backends) await b.stop();
  });

  it("knows every prefix the pool wrote: exported or named as transient", async () => {
    const known = [...EXPORTED_ITEMS, ...EXPORTED_COUNTERS, ...TRANSIENT_PREFIXES];
    for (const name of await source.getKeys("")) {
      assert.ok(
        known.some((p) => name.startsWith(`${p}:`)),
        `"${name}" is under no prefix src/store/transfer.ts classifies`,
      );
    }
  });

  it("carries every record kind and leaves the transient ones out", async () => {
    const lines = await exportOf(source);
    const names = lines.flatMap((l) => ("item" in l ? [l.item] : "counter" in l ? [l.counter] : []));
    for (
      const p of [
        "keys:ollama:",
        "tokens:",
        "meta:admin",
        "users:rec:",
        "users:email:",
        "users:signin:",
        "stats:global:ollama",
        "stats:token:",
        "stats:key:ollama:",
        "logs:",
        "quarantine:tokens:torn-one",
        "quarantine:stats:token:torn-two",
      ]
    ) {
      assert.ok(names.some((n) => n.startsWith(p)), `${p} is exported`);
    }
    assert.ok(!names.some((n) => TRANSIENT_PREFIXES.some((p) => n.startsWith(`${p}:`))), "no transient record");
    const end = lines.at(-1) as { end: true; items: number; counters: number };
    assert.equal(end.end, true);
    assert.equal(end.items + end.counters, lines.length - 2);
    const global = lines.find((l) => "counter" in l && l.counter === "stats:global:ollama") as {
      value: Record<string, number>;
    };
    assert.equal(global.value.requests, 3);
  });

  it("fs → Redis → Upstash → Postgres → fs: every hop exports the same records, and importing twice changes nothing", async () => {
    const first = await exportOf(source);
    let previous = first;
    for (const target of backends.slice(1)) {
      const storage = target.connect();
      const r = await importLines(storage, counterSinkFor(storage), text(previous));
      assert.equal(r.complete, true);
      const again = await importLines(storage, counterSinkFor(storage), text(previous));
      assert.equal(again.items + again.counters, r.items + r.counters);
      const now = await exportOf(storage);
      assert.deepEqual(records(now), records(first), `${target.name} holds what the filesystem held`);
      previous = now;
    }
  });

  it("a pool on the last store serves with the first one's keys, token, admin credential and statistics", async () => {
    const last = backends.at(-1)!.connect();
    let generated = false;
    const pool = createPool({
      providers: [ollama({ baseURL: mock.url })],
      storage: last,
      auth: { onAdminTokenGenerated: () => (generated = true) },
      logger: quiet,
    });
    await pool.ready();
    assert.equal(generated, false, "the admin credential came along");
    const stats = await (await pool.fetch(
      new Request("http://pool/admin/stats", { headers: { authorization: `Bearer ${adminToken}` } }),
    )).json();
    assert.equal(stats.total_api_keys, 1200);
    assert.equal(stats.total_requests, 3);
    const r = await pool.fetch(
      new Request("http://pool/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${clientToken}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] }),
      }),
    );
    assert.equal(r.status, 200);
    await r.text();
    const health = await (await pool.fetch(new Request("http://pool/health"))).json();
    assert.equal(health.storage.quarantined, 2, "the records set aside at the source are still reported");
    await pool.close();
  });

  it("refuses what is not an export: no header, a foreign record name, a counter that is not a number", async () => {
    const storage = backends[0].connect();
    const sink = counterSinkFor(storage);
    const header = JSON.stringify({ format: "ollama-api-pool-export", version: 1, exportedAt: "x", source: "x" });
    async function* of(...l: string[]) {
      yield* l;
    }
    await assert.rejects(
      importLines(storage, sink, of('{"item":"keys:a:b","value":{}}')),
      /line 1: an export starts with its header/,
    );
    await assert.rejects(
      importLines(storage, sink, of(header, '{"item":"limits:x:1","value":{}}')),
      /line 2: "limits:x:1" is not a record name/,
    );
    await assert.rejects(importLines(storage, sink, of(header, '{"item":"keys:..:x","value":{}}')), /line 2/);
    await assert.rejects(
      importLines(storage, sink, of(header, '{"counter":"stats:x","value":{"a":"1"}}')),
      /not a finite number/,
    );
    await assert.rejects(importLines(storage, sink, of(header, "{not json")), /line 2: not JSON/);
    const cut = await importLines(storage, sink, of(header, '{"item":"meta:note","value":{"a":1}}'));
    assert.equal(cut.complete, false, "an export without its end line is reported as cut off");
  });
});
