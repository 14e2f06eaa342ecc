/**
 * Waiting for something another part of the system does in its own time (a background sync, a
 * flush, a second instance, a child process): poll a check until it holds or a deadline passes.
 * @module
 */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Calls `check` every `everyMs` until it returns true; resolves with the milliseconds that took.
 * Rejects naming `what` once `ms` have passed (a check that throws rejects at once).
 */
export async function within(
  ms: number,
  check: () => boolean | Promise<boolean>,
  what = "the condition",
  everyMs = 50,
): Promise<number> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error(`${what} did not hold within ${ms} ms`);
    await sleep(everyMs);
  }
  return Date.now() - t0;
}
