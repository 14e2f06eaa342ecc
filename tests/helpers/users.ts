/**
 * Helpers for the user-system tests: a pool with users enabled and a controllable clock, a mailer
 * that keeps messages in memory, and local sinks over real sockets: an SMTP server (the
 * `smtp-server` package), a webhook receiver and a Turnstile verifier stub.
 * @module
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import type { Mailer, MailMessage, UsersOptions } from "../../mod.ts";
import { setupPool, type TestPool, type TestPoolOptions } from "./setup.ts";

export const SECRET = "users-test-secret-0123456789abcdef-0123456789";
/** The lowest allowed PBKDF2 count keeps the suite quick; production defaults to 600,000. */
export const TEST_ITERATIONS = 100_000;

/** A mailer that keeps messages; `code(to)` reads the latest code mailed to an address. */
export interface MemoryMailer extends Mailer {
  messages: MailMessage[];
  code(to: string): string;
  /** Make the next sends fail. */
  failing: boolean;
}

/** The code in a message's plain text (its own indented line). */
export function codeIn(text: string): string {
  const m = /\n {4}(\d{6})\r?\n/.exec(text);
  if (!m) throw new Error(`no code in mail:\n${text}`);
  return m[1];
}

export function memoryMailer(): MemoryMailer {
  const m: MemoryMailer = {
    messages: [],
    failing: false,
    send(msg) {
      if (m.failing) return Promise.reject(new Error("mail server down"));
      m.messages.push(msg);
      return Promise.resolve();
    },
    code(to) {
      const last = m.messages.filter((x) => x.to === to).pop();
      if (!last) throw new Error(`no mail to ${to}`);
      return codeIn(last.text);
    },
  };
  return m;
}

/** A pool with users on, its clock and mailer, and call helpers. */
export interface UsersPool extends TestPool {
  clock: { t: number };
  mailer: MemoryMailer;
  /** Calls `/api/auth/*` (JSON body; `session` as Bearer; extra headers). */
  api(
    method: string,
    path: string,
    body?: unknown,
    session?: string,
    headers?: Record<string, string>,
  ): Promise<Response>;
  /** send-code + register; returns the session and profile. */
  register(
    email: string,
    password?: string,
  ): Promise<{ session: string; user: Record<string, unknown> & { keyToken: string; id: string } }>;
  /** Calls the proxy with a client token. */
  chatWith(token: string): Promise<Response>;
}

export async function usersPool(
  o: Omit<TestPoolOptions, "users"> & { users?: Partial<UsersOptions>; start?: number } = {},
): Promise<UsersPool> {
  const clock = { t: o.start ?? Date.UTC(2025, 0, 15, 12) };
  const mailer = memoryMailer();
  const { users, ...rest } = o;
  const t = await setupPool({
    now: () => clock.t,
    keys: ["good-users-0001"],
    ...rest,
    users: { secret: SECRET, pbkdf2Iterations: TEST_ITERATIONS, mailer, ...users },
  });
  const api: UsersPool["api"] = (method, path, body, session, headers = {}) =>
    t.pool.fetch(
      new Request(`http://pool${path}`, {
        method,
        headers: {
          "content-type": "application/json",
          ...(session ? { authorization: `Bearer ${session}` } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
  return {
    ...t,
    clock,
    mailer,
    api,
    async register(email, password = "correct horse battery") {
      const sent = await api("POST", "/api/auth/send-code", { email, purpose: "register", turnstileToken: "pass" });
      if (sent.status !== 200) throw new Error(`send-code: ${sent.status} ${await sent.text()}`);
      const res = await api("POST", "/api/auth/register", {
        email,
        password,
        code: mailer.code(email),
        turnstileToken: "pass",
      });
      if (res.status !== 200) throw new Error(`register: ${res.status} ${await res.text()}`);
      const body = await res.json();
      return { session: body.token, user: body.user };
    },
    chatWith(token) {
      return t.call("/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] }),
      });
    },
  };
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))
  );
}

function readJson(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (text += c));
    req.on("end", () => resolve(text));
    req.on("error", reject);
  });
}

/**
 * Closes a test server without waiting for its clients' keep-alive sockets (the pool's fetch
 * keeps them open; Deno's node:http waited minutes for them in one run).
 */
function closeServer(server: Server): Promise<void> {
  return new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections?.();
  });
}

/** A local HTTP receiver that records JSON bodies (the webhook mail forwarder). */
export async function startWebhookSink(
  status = 200,
): Promise<{ url: string; bodies: Array<Record<string, unknown>>; status: number; close(): Promise<void> }> {
  const sink = { url: "", bodies: [] as Array<Record<string, unknown>>, status, close: () => closeServer(server) };
  const server = createServer(async (req, res) => {
    sink.bodies.push(JSON.parse(await readJson(req)));
    res.writeHead(sink.status, { "content-type": "application/json" }).end('{"ok":true}');
  });
  sink.url = `${await listen(server)}/forward`;
  return sink;
}

/** A Turnstile siteverify stub: token "pass" succeeds; records the form fields it got. */
export async function startTurnstileStub(): Promise<{ url: string; forms: URLSearchParams[]; close(): Promise<void> }> {
  const forms: URLSearchParams[] = [];
  const server = createServer(async (req, res) => {
    const form = new URLSearchParams(await readJson(req));
    forms.push(form);
    const success = form.get("response") === "pass" && form.get("secret") === "ts-secret";
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({ success, "error-codes": success ? [] : ["invalid-input-response"] }),
    );
  });
  const url = await listen(server);
  return { url, forms, close: () => closeServer(server) };
}

/** One message received by the SMTP sink. */
export interface SmtpReceived {
  from: string;
  to: string[];
  user?: string;
  raw: string;
}

/** A real SMTP server on 127.0.0.1 (no TLS; AUTH PLAIN/LOGIN accepted for `pool`/`smtp-pass`). */
export async function startSmtpSink(): Promise<{ port: number; received: SmtpReceived[]; close(): Promise<void> }> {
  const received: SmtpReceived[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    disableReverseLookup: true, // no DNS query for the client address: tests talk to 127.0.0.1 only
    authOptional: false,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === "pool" && auth.password === "smtp-pass") cb(null, { user: auth.username });
      else cb(new Error("bad credentials"));
    },
    onData(stream, session, cb) {
      let raw = "";
      stream.setEncoding("utf8");
      stream.on("data", (c: string) => (raw += c));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          raw,
        });
        cb();
      });
    },
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.server.address() as AddressInfo).port))
  );
  return { port, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}
