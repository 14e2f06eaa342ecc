/**
 * A minimal HTTP/1.1 client on a raw socket, for requests no fetch implementation would send
 * (bytes that break the grammar, duplicate or over-long headers) and for bodies whose sending
 * must be watched (how much went out before the answer came).
 * @module
 */
import { connect } from "node:net";

/** An answer read off a raw socket. `status` 0: the connection closed without one; -1: closed in the middle of one. */
export interface Raw {
  status: number;
  headers: Record<string, string>;
  body: string;
  sent: number;
}

/** Writes `head` (then `next()` chunks, with backpressure) to a new connection; resolves with the first complete answer. */
export function exchange(port: number, head: string | Uint8Array, next?: () => Uint8Array | undefined): Promise<Raw> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let sent = 0;
    let done = false;
    const parse = (closed: boolean): Raw | undefined => {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return closed ? { status: 0, headers: {}, body: "", sent } : undefined;
      const [statusLine, ...lines] = buf.subarray(0, end).toString("latin1").split("\r\n");
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
      );
      const rest = buf.subarray(end + 4);
      let body: Buffer;
      if (headers["transfer-encoding"] === "chunked") {
        const parts: Buffer[] = [];
        for (let at = 0;;) {
          const nl = rest.indexOf("\r\n", at);
          const size = nl < 0 ? NaN : parseInt(rest.subarray(at, nl).toString("latin1"), 16);
          if (Number.isNaN(size) || rest.length < nl + 4 + size) {
            return closed ? { status: -1, headers, body: "", sent } : undefined;
          }
          if (size === 0) break;
          parts.push(rest.subarray(nl + 2, nl + 2 + size));
          at = nl + 4 + size;
        }
        body = Buffer.concat(parts);
      } else if (headers["content-length"] !== undefined) {
        const n = Number(headers["content-length"]);
        if (rest.length < n) return closed ? { status: -1, headers, body: "", sent } : undefined;
        body = rest.subarray(0, n);
      } else if (!closed) return undefined;
      else body = rest;
      return { status: Number(statusLine.split(" ")[1]), headers, body: body.toString("utf8"), sent };
    };
    const finish = (r: Raw | undefined): void => {
      if (done || !r) return;
      done = true;
      socket.destroy();
      resolve(r);
    };
    socket.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      finish(parse(false));
    });
    socket.on("close", () => finish(parse(true)));
    socket.on("error", () => {}); // a reset after the answer; "close" follows
    socket.write(head);
    const pump = (): void => {
      for (let chunk = next?.(); chunk && !done; chunk = next?.()) {
        sent += chunk.byteLength;
        if (!socket.write(chunk)) return void socket.once("drain", pump);
      }
    };
    pump();
  });
}
