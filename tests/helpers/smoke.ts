/**
 * The smoke test every runtime example runs through: import a key, create a client token, chat
 * (plain and streamed). Takes a fetch-shaped function, so it drives real HTTP and miniflare's
 * `dispatchFetch` alike.
 * @module
 */
import assert from "node:assert/strict";

/** Calls the server under test at `path`. */
export type Fetcher = (path: string, init?: RequestInit) => Promise<Response>;

/** A {@link Fetcher} over real HTTP. */
export function httpFetcher(base: string): Fetcher {
  return (path, init) => fetch(`${base}${path}`, init);
}

/** Imports `key` into the Ollama pool through the admin API and returns a new client token. */
export async function importKeyAndToken(f: Fetcher, adminToken: string, key: string): Promise<string> {
  const headers = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
  const imported = await f("/admin/api-keys/import", {
    method: "POST",
    headers,
    body: JSON.stringify({ keys: [key] }),
  });
  assert.equal(imported.status, 200, await imported.clone().text());
  assert.equal((await imported.json()).added, 1);
  const created = await f("/admin/tokens", { method: "POST", headers, body: JSON.stringify({ name: "smoke" }) });
  assert.equal(created.status, 201);
  const { token } = await created.json();
  assert.match(token, /^sk-/);
  return token;
}

/** An OpenAI chat completion, streamed or not; asserts the answer's shape and returns its body. */
export async function chat(f: Fetcher, token: string, stream: boolean): Promise<string> {
  const res = await f("/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "llama3.2", stream, messages: [{ role: "user", content: "hi" }] }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  if (stream) {
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    assert.match(text, /"content":"tok0 "/);
    assert.match(text, /data: \[DONE\]\n\n$/);
  } else {
    assert.equal(JSON.parse(text).choices[0].message.content, "tok0 tok1 tok2 ");
  }
  return text;
}
