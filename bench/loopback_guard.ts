/**
 * Preloaded (`node --import tsx --import ./bench/loopback_guard.ts …`) into third-party servers
 * the benchmarks run, such as the Portkey gateway, whose code we do not control: this machine may
 * only talk to 127.0.0.0/8. Two guarantees, enforced at the lowest layer every Node client and
 * server goes through (`net.Socket#connect`, `net.Server#listen`), so they also hold for
 * `fetch`/undici, `http.request`, `tls.connect`, ioredis and `ws`:
 *
 * - an outgoing TCP connection to anything but a loopback address is refused before any DNS
 *   lookup or packet, and reported on stderr as `loopback_guard: BLOCKED …` (the benchmark scans
 *   the child's stderr for that line and fails loudly);
 * - a server that listens without a host (Node's default is every interface) or on a
 *   non-loopback host is bound to 127.0.0.1 instead.
 * @module
 */
import net from "node:net";

const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|::1|localhost|::ffff:127(?:\.\d{1,3}){3})$/i;
// Hosts blocked although loopback, only to test the guard itself: a test may never aim at a real
// outside address (one that slipped through would leave the machine).
const DENY = new Set((process.env.LOOPBACK_GUARD_DENY ?? "").split(",").filter(Boolean));
let blocked = 0;

type ConnectOpts = { host?: string; path?: string | null; port?: number | string };

/** Where a `Socket#connect` call goes, from any of its call shapes; `path` means a Unix socket. */
function destination(args: unknown[]): ConnectOpts {
  let first = args[0];
  // net.connect() normalizes its arguments into an array before calling Socket#connect.
  if (Array.isArray(first)) first = first[0];
  if (first && typeof first === "object") return first as ConnectOpts;
  if (typeof first === "string" && !/^\d+$/.test(first)) return { path: first };
  return { port: first as number, host: typeof args[1] === "string" ? args[1] : undefined };
}

const connect = net.Socket.prototype.connect as (...a: unknown[]) => net.Socket;
net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]): net.Socket {
  const d = destination(args);
  const host = d.host ?? "localhost"; // Node's own default
  // A Unix socket only when `path` is a non-empty string, as Node decides (http passes path: null).
  if ((typeof d.path === "string" && d.path !== "") || (LOOPBACK.test(host) && !DENY.has(host))) {
    return connect.apply(this, args);
  }
  blocked++;
  console.error(`loopback_guard: BLOCKED outbound connection to ${host}:${d.port} (#${blocked})`);
  // Fail like an unreachable host would: through the socket's error event, after the caller
  // (e.g. http.ClientRequest, which attaches its listeners on the next tick) is listening.
  setImmediate(() =>
    this.destroy(Object.assign(new Error(`loopback_guard: ${host} is not loopback`), { code: "ECONNREFUSED" }))
  );
  return this;
} as typeof net.Socket.prototype.connect;

const listen = net.Server.prototype.listen as (...a: unknown[]) => net.Server;
net.Server.prototype.listen = function guardedListen(this: net.Server, ...args: unknown[]): net.Server {
  if (args.length === 0 || typeof args[0] === "function") args.unshift(0); // listen() = any port, all interfaces
  const [first] = args;
  if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    // listen(port, host?, backlog?, cb?): a missing or undefined host means all interfaces.
    if (typeof args[1] === "string") {
      if (!LOOPBACK.test(args[1])) args[1] = "127.0.0.1";
    } else if (args.length > 1 && args[1] === undefined) args[1] = "127.0.0.1";
    else args.splice(1, 0, "127.0.0.1");
  } else if (first && typeof first === "object" && !("path" in first) && !("fd" in first) && !("_handle" in first)) {
    const o = first as { host?: string };
    if (!o.host || !LOOPBACK.test(o.host)) args[0] = { ...o, host: "127.0.0.1" };
  }
  return listen.apply(this, args);
} as typeof net.Server.prototype.listen;
