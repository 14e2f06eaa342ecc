/** Builds a pool in front of a fresh mock upstream, with helpers to call it in-process. @module */
import { createPool, ollama, openrouter, type PoolOptions } from "../../mod.ts";
import type { Pool } from "../../src/pool.ts";
import { type MockOptions, type MockUpstream, startMockUpstream } from "./mock_upstream.ts";

export const ADMIN = "test-admin-token-0123";

/** A pool, its mock upstream, a client token and call helpers. */
export interface TestPool {
  pool: Pool;
  mock: MockUpstream;
  token: string;
  /** Calls the pool as a client (client token set unless `headers.authorization` is given). */
  call(path: string, init?: RequestInit): Promise<Response>;
  /** Calls an admin route with the admin token; `body` objects are sent as JSON. */
  admin(method: string, path: string, body?: unknown): Promise<Response>;
  /** Replaces the keys of a provider. */
  setKeys(keys: string[], provider?: string): Promise<void>;
  close(): Promise<void>;
}

export interface TestPoolOptions extends Partial<PoolOptions> {
  keys?: string[];
  mockOptions?: MockOptions;
}

export async function setupPool(o: TestPoolOptions = {}): Promise<TestPool> {
  const mock = await startMockUpstream(o.mockOptions);
  let pool: Pool;
  try {
    pool = createPool({
      providers: [
        ollama({ baseURL: mock.url }),
        openrouter({ baseURL: `${mock.url}/api`, appUrl: "https://app.example", appTitle: "Test App" }),
      ],
      auth: { adminToken: ADMIN },
      logger: { info() {}, warn() {}, error() {} },
      ...o,
    });
  } catch (err) {
    await mock.close(); // a refused configuration must not leave the mock keeping the process alive
    throw err;
  }
  const admin = (method: string, path: string, body?: unknown): Promise<Response> =>
    pool.fetch(adminRequest(ADMIN, method, path, body));
  const created = await admin("POST", "/admin/tokens", { name: "tests" });
  const { token } = await created.json();
  const t: TestPool = {
    pool,
    mock,
    token,
    admin,
    call(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
      if (init.body && !headers.has("content-type")) headers.set("content-type", "application/json");
      return pool.fetch(new Request(`http://pool${path}`, { ...init, headers }));
    },
    async setKeys(keys, provider = "ollama") {
      const list = await (await admin("GET", `/admin/api-keys?provider=${provider}&pageSize=200`)).json();
      const ids = list.api_keys.map((k: { id: string }) => k.id);
      if (ids.length) await admin("DELETE", `/admin/api-keys?provider=${provider}`, { apiKeys: ids });
      if (keys.length) await admin("POST", `/admin/api-keys/import?provider=${provider}`, { keys });
    },
    async close() {
      await pool.close();
      await mock.close();
    },
  };
  if (o.keys) await t.setKeys(o.keys);
  return t;
}

/** A request to an admin route with the admin `token`; `body` objects go as JSON. `base`: the server's address. */
export function adminRequest(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  base = "http://pool",
): Request {
  return new Request(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** JSON body of a chat request. */
export function chat(model = "llama3.2", extra: Record<string, unknown> = {}): RequestInit {
  return { method: "POST", body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], ...extra }) };
}
