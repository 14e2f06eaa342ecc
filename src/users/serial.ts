/** Per-key serialization inside one instance: read-modify-write of one record never interleaves. @module */

/** Runs `fn` after every earlier call with the same key has settled. */
export type Serial = <T>(key: string, fn: () => Promise<T>) => Promise<T>;

/** A new, independent serializer. Keys with nothing queued hold no memory. */
export function serialized(): Serial {
  const tails = new Map<string, Promise<unknown>>();
  return (key, fn) => {
    const prev = tails.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    tails.set(key, tail);
    tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
}
