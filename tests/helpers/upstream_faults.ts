/**
 * What the upstream fault suites share: a record of everything that would have ended the process
 * (the suites assert it stays empty), and the two transports every cell runs on.
 * @module
 */
import process from "node:process";
import { after } from "node:test";
import { undiciFetch } from "../../adapters/node_fetch.ts";
import type { FetchLike } from "../../mod.ts";

/**
 * Errors that reached `uncaughtException` or `unhandledRejection` while the calling file's tests
 * ran (listening also keeps them from ending the run); the listeners go with the file's `after`.
 */
export function collectEscapes(): unknown[] {
  const escaped: unknown[] = [];
  const onEscape = (err: unknown): void => void escaped.push(err);
  process.on("uncaughtException", onEscape);
  process.on("unhandledRejection", onEscape);
  after(() => {
    process.off("uncaughtException", onEscape);
    process.off("unhandledRejection", onEscape);
  });
  return escaped;
}

/** The runtime's own fetch, and the Node adapter's undici transport. */
export const TRANSPORTS: Array<[string, () => FetchLike | undefined]> = [["global fetch", () => undefined], [
  "undiciFetch",
  () => undiciFetch(),
]];
