/**
 * Fault suite, crashes: the stand-alone server (a Node child process on the filesystem store) is
 * killed with SIGKILL in the middle of a 30,000-key import, of a statistics flush and of token
 * creation, three times each, restarting on the same data folder every time. After each kill:
 * every file in the folder is a whole JSON record (temporary files aside, which are not records
 * and are gone after the restart); after each restart `/health` is "ok" with nothing set aside,
 * every key import and token that was acknowledged to the client is there, and the statistics
 * lost are at most the requests answered in the last flush interval before the kill.
 *
 * The kill is timed by the server's own writes: a watcher on the record folder of the kind under
 * test fires at its n-th change (n random), i.e. while such writes are under way.
 * @module
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { watch } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type MockUpstream, startMockUpstream } from "../helpers/mock_upstream.ts";
import { serverArgs, type Spawned, spawnServer } from "../helpers/spawn.ts";
import { skipUnless } from "../helpers/requires.ts";
import { sleep } from "../helpers/poll.ts";
import { adminRequest } from "../helpers/setup.ts";

const ADMIN = "crash-test-admin-token-0123456789";
const ROOT = new URL("../..", import.meta.url).pathname;
/** The CLI's statistics flush interval, plus its 1 s tick, plus a second for the flush itself. */
const FLUSH_WINDOW_MS = 5000 + 1000 + 1000;
const ROUNDS = 3;
/** The statistics rounds wait for a flush (5 s) each: two keep the file's run time modest. */
const STATS_ROUNDS = 2;

/** An ollama.txt line; its label (the address) says whether its import is acknowledged. */
const keyLine = (label: string, tag: string, i: number): string =>
  `${label}----pw----s----good-crash-${tag}-${String(i).padStart(6, "0")}`;

/** Every file under `dir` with its text, relative names. */
async function filesOf(dir: string): Promise<Array<{ name: string; text: string }>> {
  const out: Array<{ name: string; text: string }> = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath ?? (e as { path?: string }).path ?? dir, e.name);
    out.push({ name: full.slice(dir.length + 1), text: await readFile(full, "utf8").catch(() => "") });
  }
  return out;
}

/** No torn record: every file but an in-flight temporary one is a whole JSON object. */
async function assertNoTornRecord(dir: string, when: string): Promise<void> {
  for (const f of await filesOf(dir)) {
    if (f.name.endsWith(".tmp~")) continue;
    let value: unknown;
    try {
      value = JSON.parse(f.text);
    } catch {
      assert.fail(`${when}: ${f.name} is torn (${f.text.length} bytes)`);
    }
    assert.ok(value && typeof value === "object", `${when}: ${f.name} is not a record`);
  }
}

/**
 * Resolves at the `nth` change in `folder` (a file created, renamed or written: a write of that
 * kind is under way). Any change counts, not only temporary files, so that the test times its kill
 * the same way against a driver that writes records in place.
 */
function atWrite(folder: string, nth: number): { seen: Promise<void>; close(): void } {
  let count = 0;
  let fire = (): void => {};
  const seen = new Promise<void>((resolve) => (fire = resolve));
  const watcher = watch(folder, () => {
    if (++count === nth) fire();
  });
  return { seen, close: () => watcher.close() };
}

const SUITE = "crash safety of the filesystem store (kill -9 of the stand-alone server)";
describe(SUITE, { timeout: 120_000, ...skipUnless(SUITE, "processes") }, () => {
  let mock: MockUpstream;
  let dir: string;
  let server: Spawned | undefined;
  before(async () => {
    mock = await startMockUpstream({ quiet: true });
    dir = await mkdtemp(join(tmpdir(), "pool-crash-"));
  });
  after(async () => {
    await server?.stop();
    await mock.close();
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (): Promise<Spawned> => {
    server = await spawnServer(
      "node",
      serverArgs("--data-dir", dir),
      {
        cwd: ROOT,
        env: { ADMIN_TOKEN: ADMIN, OLLAMA_BASE_URL: mock.url, STORAGE_URL: "" },
      },
    );
    return server;
  };
  const kill = async (s: Spawned): Promise<void> => {
    process.kill(s.pid, "SIGKILL");
    await s.stop(); // waits for the exit
  };
  const admin = (s: Spawned, method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(adminRequest(ADMIN, method, path, body, s.url));
  /** After a restart: healthy, nothing set aside, no temporary file left. */
  const checkRestart = async (s: Spawned, when: string): Promise<void> => {
    const health = await (await fetch(`${s.url}/health`)).json();
    assert.equal(health.status, "ok", `${when}: ${JSON.stringify(health.storage)}`);
    assert.equal(health.storage.quarantined, undefined);
    assert.ok(
      !(await filesOf(dir)).some((f) => f.name.endsWith(".tmp~")),
      `${when}: a temporary file outlived the restart`,
    );
  };

  const ackedKeys: string[] = [];
  const ackedTokens: string[] = [];
  let statsAcked = 0;

  it("during a 30,000-key import: acknowledged imports are all there, no record is torn", async () => {
    let s = await start();
    for (let round = 0; round < ROUNDS; round++) {
      const small = Array.from({ length: 50 }, (_, i) => keyLine("acked@x.io", `ack${round}`, i));
      assert.equal(
        (await admin(s, "POST", "/admin/api-keys/import-from-txt", { content: small.join("\n") })).status,
        200,
      );
      ackedKeys.push(...small);
      const folder = join(dir, "keys", "ollama");
      const trigger = atWrite(folder, 1 + Math.floor(Math.random() * 1500));
      const big = Array.from({ length: 30_000 }, (_, i) => keyLine("cut@x.io", `big${round}`, i)).join("\n");
      const importing = admin(s, "POST", "/admin/api-keys/import-from-txt", { content: big }).then(
        (r) => r.status,
        () => "cut",
      );
      await Promise.race([trigger.seen, importing]);
      trigger.close();
      await kill(s);
      assert.equal(await importing, "cut", "the kill came before the import was acknowledged");
      await assertNoTornRecord(dir, `import round ${round}`);
      s = await start();
      await checkRestart(s, `import round ${round}`);
      const keys = await (await admin(s, "GET", "/admin/api-keys?pageSize=1&search=acked@x.io")).json();
      assert.equal(keys.total, ackedKeys.length, `import round ${round}: acknowledged keys`);
    }
    await s.stop();
  });

  it("during token creation: every acknowledged token authenticates after the restart", async () => {
    let s = await start();
    for (let round = 0; round < ROUNDS; round++) {
      const folder = join(dir, "tokens");
      await admin(s, "POST", "/admin/tokens", { name: `warm-${round}` }).then(async (r) =>
        ackedTokens.push((await r.json()).token)
      );
      const trigger = atWrite(folder, 5 + Math.floor(Math.random() * 40));
      const creating = Array.from(
        { length: 60 },
        (_, i) =>
          admin(s, "POST", "/admin/tokens", { name: `crash-${round}-${i}` })
            .then(
              async (r) => (r.status === 200 || r.status === 201 ? ackedTokens.push((await r.json()).token) : 0),
              () => 0,
            ),
      );
      await Promise.race([trigger.seen, sleep(3000)]);
      trigger.close();
      await kill(s);
      await Promise.all(creating);
      await assertNoTornRecord(dir, `tokens round ${round}`);
      s = await start();
      await checkRestart(s, `tokens round ${round}`);
      for (const token of ackedTokens) {
        const r = await fetch(`${s.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } });
        assert.notEqual(r.status, 401, `tokens round ${round}: an acknowledged token was lost`);
        await r.body?.cancel();
      }
    }
    await s.stop();
  });

  it("during a statistics flush: at most the last flush interval's requests are lost", async () => {
    let s = await start();
    const token = ackedTokens[0];
    for (let round = 0; round < STATS_ROUNDS; round++) {
      const before = (await (await admin(s, "GET", "/admin/stats")).json()).total_requests as number;
      assert.ok(before >= statsAcked - 0, `round ${round}: counted ${before}, answered ${statsAcked}`);
      const answeredAt: number[] = [];
      let stop = false;
      const traffic = Array.from({ length: 8 }, async () => {
        while (!stop) {
          const r = await fetch(`${s.url}/v1/chat/completions`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] }),
          }).catch(() => undefined);
          if (!r) return;
          if (r.status === 200 && (await r.text().then(() => true, () => false))) answeredAt.push(Date.now());
          else await r.body?.cancel().catch(() => {});
        }
      });
      const folder = join(dir, "stats", "key", "ollama");
      await mkdir(folder, { recursive: true });
      const trigger = atWrite(folder, 1 + Math.floor(Math.random() * 50));
      // The first flush of this run writes a record per key used; without enough traffic, kill anyway.
      await Promise.race([trigger.seen, sleep(FLUSH_WINDOW_MS)]);
      trigger.close();
      const killedAt = Date.now();
      await kill(s);
      stop = true;
      await Promise.all(traffic);
      await assertNoTornRecord(dir, `stats round ${round}`);
      s = await start();
      await checkRestart(s, `stats round ${round}`);
      const counted = (await (await admin(s, "GET", "/admin/stats")).json()).total_requests as number;
      const answered = statsAcked + answeredAt.length;
      const lastWindow = answeredAt.filter((t) => t > killedAt - FLUSH_WINDOW_MS).length;
      assert.ok(
        counted >= answered - lastWindow,
        `round ${round}: counted ${counted} of ${answered} answered; only ${lastWindow} were in the last flush window`,
      );
      statsAcked = counted; // what is counted now is the base of the next round
    }
    await s.stop();
  });
});
