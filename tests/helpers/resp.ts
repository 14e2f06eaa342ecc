/**
 * A plain RESP2 client for the Upstash REST stand-in: unlike ioredis it hands back replies as
 * Redis sent them (no HGETALL-to-object conversion) and tells status replies ("OK") from bulk
 * strings, which the REST envelope encodes differently. One connection; replies are matched to
 * commands in order, as Redis answers them.
 * @module
 */
import { connect, type Socket } from "node:net";

/** A status reply (`+OK`), kept apart from bulk strings. */
export class Status {
  constructor(readonly text: string) {}
}

/** An error reply (`-ERR …`); inside EXEC's answer it stands for that one command. */
export class ReplyError extends Error {}

export type Reply = string | number | null | Status | ReplyError | Reply[];

/** Reads one reply from `buf` at `at`: the reply and where the next begins, or undefined if incomplete. */
function parse(buf: Buffer, at: number): [Reply, number] | undefined {
  const eol = buf.indexOf("\r\n", at);
  if (eol < 0) return undefined;
  const line = buf.toString("utf8", at + 1, eol);
  const next = eol + 2;
  switch (buf[at]) {
    case 43: // +
      return [new Status(line), next];
    case 45: // -
      return [new ReplyError(line), next];
    case 58: // :
      return [Number(line), next];
    case 36: { // $
      const n = Number(line);
      if (n < 0) return [null, next];
      if (buf.length < next + n + 2) return undefined;
      return [buf.toString("utf8", next, next + n), next + n + 2];
    }
    case 42: { // *
      const n = Number(line);
      if (n < 0) return [null, next];
      const items: Reply[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const r = parse(buf, pos);
        if (!r) return undefined;
        items.push(r[0]);
        pos = r[1];
      }
      return [items, pos];
    }
    default:
      throw new Error(`not RESP: byte ${buf[at]}`);
  }
}

const encode = (args: Array<string | number>): string =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join("")}`;

export interface RespClient {
  /** Sends the commands in one write; resolves with their replies, in order. */
  send(commands: Array<Array<string | number>>): Promise<Reply[]>;
  close(): void;
}

export async function respClient(port: number): Promise<RespClient> {
  const socket: Socket = connect({ port, host: "127.0.0.1" });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  // Waiting replies, oldest first; bounded by the commands the test server has in flight.
  const waiting: Array<{ resolve(r: Reply): void; reject(e: Error): void }> = [];
  // Unparsed bytes: at most one reply still arriving (the replies the test server asked for).
  let buf: Buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    let pos = 0;
    for (let r = parse(buf, pos); r; r = parse(buf, pos)) {
      pos = r[1];
      waiting.shift()?.resolve(r[0]);
    }
    buf = buf.subarray(pos);
  });
  const failAll = (err: Error) => {
    for (const w of waiting.splice(0)) w.reject(err);
  };
  socket.on("error", failAll);
  socket.on("close", () => failAll(new Error("connection to Redis closed")));
  return {
    send(commands) {
      const replies = commands.map(() => new Promise<Reply>((resolve, reject) => waiting.push({ resolve, reject })));
      if (socket.destroyed) failAll(new Error("connection to Redis closed"));
      else socket.write(commands.map(encode).join(""));
      return Promise.all(replies);
    },
    close: () => socket.destroy(),
  };
}
