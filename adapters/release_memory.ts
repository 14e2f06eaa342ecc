/**
 * Garbage collections around bulk key imports, for the stand-alone Node server. An import's
 * storage writes allocate ~20 KB of short-lived objects per key (file handles, promises, paths,
 * JSON), and V8 in Node 20 neither collects an idle heap by itself nor shrinks its young
 * generation while allocation is high: measured here, a 100,000-key import left the process at
 * the RSS of its peak (~180 MB) after a minute idle. So: one collection per {@link BULK_KEYS}
 * keys stored (bounds the garbage a long import piles up), one a second after the import (returns
 * its pages), and one more after a quiet stretch (V8 shrinks the young generation only in a
 * collection that follows one) — the process then settles near what its keys need (~120 MB).
 * Each is one pause of ~20–60 ms; imports below {@link BULK_KEYS} keys cause none.
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";

/** Keys stored between two collections during an import, and the smallest import followed by them. */
export const BULK_KEYS = 20_000;
/** After the collection that follows an import: the quiet stretch before the one that shrinks. */
const QUIET_MS = 6000;

/** V8's collector: `gc` of a context made while `--expose-gc` is on; null where unavailable. */
let collector: (() => void) | null | undefined;

function collect(): void {
  if (collector === undefined) {
    try {
      v8.setFlagsFromString("--expose-gc");
      collector = vm.runInNewContext("gc") as () => void;
      v8.setFlagsFromString("--no-expose-gc"); // contexts made later (user code) do not get it
    } catch {
      collector = null; // another engine (Bun), or a Node that refuses the flag: nothing to do
    }
  }
  collector?.();
}

let sinceCollection = 0;
let pending: ReturnType<typeof setTimeout> | undefined;

/** A step of an import stored `count` keys. */
export function keysStored(count: number): void {
  sinceCollection += count;
  if (sinceCollection < BULK_KEYS) return;
  sinceCollection = 0;
  collect();
}

/**
 * An import ended having added `added` keys: when that is {@link BULK_KEYS} or more, collects a
 * second later and again {@link QUIET_MS} after that (imports back to back pay once). The timers
 * do not keep the process alive.
 */
export function importEnded(added: number): void {
  if (added < BULK_KEYS) return;
  const later = (ms: number, then?: () => void) => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      pending = undefined;
      collect();
      then?.();
    }, ms);
    (pending as { unref?: () => void }).unref?.();
  };
  later(1000, () => later(QUIET_MS));
}
