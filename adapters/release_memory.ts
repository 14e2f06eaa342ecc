/**
 * One full garbage collection after a bulk key import, for the stand-alone Node server. V8 in
 * Node 20 does not collect an idle heap by itself: measured here, the garbage a 100,000-key
 * import leaves (~60 MB) was still resident after a minute idle, so the process kept the RSS of
 * its peak until traffic happened to fill the heap again. One collection after the import gives it
 * back, at the cost of one pause of ~30–100 ms, once per import of {@link BULK_KEYS} keys or more.
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";

/** Imports smaller than this leave too little garbage to be worth a pause. */
export const BULK_KEYS = 10_000;

/** V8's collector: the `gc` function of a context made while `--expose-gc` is on; null where unavailable. */
let collector: (() => void) | null | undefined;

function gcFunction(): (() => void) | null {
  if (collector !== undefined) return collector;
  try {
    v8.setFlagsFromString("--expose-gc");
    collector = vm.runInNewContext("gc") as () => void;
    v8.setFlagsFromString("--no-expose-gc"); // contexts made later (user code) do not get it
  } catch {
    collector = null; // another engine (Bun), or a Node that refuses the flag: nothing to do
  }
  return collector;
}

let pending: ReturnType<typeof setTimeout> | undefined;

/**
 * Collects once, a second after the last bulk import (several back to back pay one pause), if
 * `added` reaches {@link BULK_KEYS}. The timer does not keep the process alive.
 */
export function releaseAfterImport(added: number): void {
  if (added < BULK_KEYS) return;
  clearTimeout(pending);
  pending = setTimeout(() => {
    pending = undefined;
    gcFunction()?.();
  }, 1000);
  (pending as { unref?: () => void }).unref?.();
}
