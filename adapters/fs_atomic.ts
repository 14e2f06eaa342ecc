/**
 * unstorage's fs driver with crash-safe writes. The plain driver writes a record in place
 * (`writeFile`), so a `kill -9` or a power cut mid-write leaves an empty or half file that reads as
 * garbage. Here every write goes to a temporary file in the record's own folder and is renamed
 * over the record: a reader sees the old or the new version, never half of one. Records that must
 * survive a power cut (see {@link DURABLE_PREFIXES}) are also fsync'ed, file and folder, before the
 * write resolves; statistics, rate-limit windows, the request log, change events and cached
 * answers are not (they are rewritten every few seconds; a power cut may take the last ones).
 * Reads and removal are the fs driver's own; listing walks only the prefix's folder.
 * @module
 */
import { randomBytes } from "node:crypto";
import process from "node:process";
import { mkdir, open, readdir, rename, unlink, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { defineDriver, type Driver } from "unstorage";
import fsDriver from "unstorage/drivers/fs";

/**
 * Prefixes whose records are fsync'ed: API keys with their state, client tokens, users, the
 * admin credential (`meta:`) and dashboard logouts (`adminsessions:`). Losing one of these to a
 * power cut would lose a secret or an acknowledged admin action (a logged-out cookie would work again).
 */
export const DURABLE_PREFIXES: readonly string[] = ["keys:", "tokens:", "users:", "meta:", "adminsessions:"];

/** Suffix of in-flight temporary files; never listed as records, removed when found at start. */
const TEMP_SUFFIX = ".tmp~";
/**
 * Temporary names carry the writing process's id (`<record>.p<pid>-<random>.tmp~`). Another
 * process (or another handle in this one) may be writing on the same folder: its files must stay,
 * or its rename fails. A file is stale when its process is gone (it crashed mid-write), or when
 * it carries no process id.
 */
const TEMP_PID = /\.p(\d+)-[0-9a-f]+\.tmp~$/;

function writerAlive(name: string): boolean {
  const m = TEMP_PID.exec(name);
  if (!m) return false;
  const pid = Number(m[1]);
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

/** Options of {@link atomicFsDriver}. */
export interface AtomicFsOptions {
  /** The data folder (created when missing). */
  base: string;
  /**
   * Which records are fsync'ed before a write resolves.
   * @default a name under one of {@link DURABLE_PREFIXES}
   */
  durable?: (key: string) => boolean;
}

const TRAVERSAL = /\.\.:|\.\.$/;

/** Makes the rename itself durable: on Linux a new directory entry needs the folder fsync'ed. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, "r");
  try {
    await handle.sync();
  } catch (err) {
    // Some file systems (and Windows) cannot fsync a directory; the file itself was synced.
    if (!["EINVAL", "EISDIR", "EPERM", "EBADF"].includes((err as NodeJS.ErrnoException).code ?? "")) throw err;
  } finally {
    await handle.close();
  }
}

/** The fs driver, writing through temporary files and renames. */
export const atomicFsDriver: (opts: AtomicFsOptions) => Driver = defineDriver((opts: AtomicFsOptions) => {
  const inner = fsDriver({ base: opts.base });
  const base = resolve(opts.base);
  const durable = opts.durable ?? ((key: string) => DURABLE_PREFIXES.some((p) => key.startsWith(p)));
  /** This process's temporary files not yet renamed (bounded by the writes in flight). */
  const inFlight = new Set<string>();
  const fileOf = (key: string): string => {
    if (TRAVERSAL.test(key)) {
      throw new Error(`[unstorage] [fs] Invalid key: ${JSON.stringify(key)}. It should not contain .. segments`);
    }
    return join(base, key.replace(/:/g, "/"));
  };

  /**
   * Record files under a prefix's own folder. The fs driver walks the whole data folder for every
   * listing (100,000 key files, every statistics file) and leaves the filtering to unstorage.
   */
  const filesUnder = async (prefix: string): Promise<string[]> => {
    const folder = fileOf(prefix.slice(0, -1));
    const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(
      (err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT" || err.code === "ENOTDIR") return [];
        throw err;
      },
    );
    return entries.filter((e) => e.isFile()).map((e) =>
      relative(
        base,
        join(
          (e as { parentPath?: string; path?: string }).parentPath ?? (e as { path?: string }).path ?? folder,
          e.name,
        ),
      )
    );
  };

  /**
   * Folders known to exist, so a write costs no mkdir. Bounded: record folders are one per prefix
   * and provider, plus one per day for hourly statistics; past 10,000 the set starts over.
   */
  const folders = new Set<string>();
  const ensureFolder = async (folder: string): Promise<void> => {
    if (folders.has(folder)) return;
    await mkdir(folder, { recursive: true });
    if (folders.size >= 10_000) folders.clear();
    folders.add(folder);
  };

  /** Writes one record's temporary file (synced if durable); returns it, to be renamed. */
  const stage = async (
    key: string,
    value: string | Uint8Array,
    sync: boolean,
  ): Promise<{ temp: string; file: string }> => {
    const file = fileOf(key);
    await ensureFolder(dirname(file));
    // Same folder as the record, so the rename never crosses a file system; 0600: records hold secrets.
    const temp = `${file}.p${process.pid}-${randomBytes(6).toString("hex")}${TEMP_SUFFIX}`;
    const write = async (): Promise<void> => {
      if (!sync) return writeFile(temp, value, { mode: 0o600 });
      const handle = await open(temp, "w", 0o600);
      try {
        await handle.writeFile(value);
        await handle.sync();
      } finally {
        await handle.close();
      }
    };
    inFlight.add(temp);
    try {
      await write().catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err;
        // The folder was removed since it was cached (clear(), an operator): create it again.
        folders.delete(dirname(file));
        await ensureFolder(dirname(file));
        await write();
      });
    } catch (err) {
      await unlink(temp).catch(() => {});
      inFlight.delete(temp);
      throw err;
    }
    return { temp, file };
  };

  const commit = async ({ temp, file }: { temp: string; file: string }): Promise<void> => {
    try {
      await rename(temp, file);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    } finally {
      inFlight.delete(temp);
    }
  };

  /** Stages every record, renames each, then fsyncs each touched folder once (one fsync per folder, not per record). */
  const writeAll = async (items: Array<{ key: string; value: string | Uint8Array }>): Promise<void> => {
    const staged = await Promise.allSettled(items.map((i) => stage(i.key, i.value, durable(i.key))));
    const failed = staged.find((s): s is PromiseRejectedResult => s.status === "rejected");
    const ready = staged.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    if (failed) {
      await Promise.all(ready.map((s) => unlink(s.temp).catch(() => {}).finally(() => inFlight.delete(s.temp))));
      throw failed.reason;
    }
    await Promise.all(ready.map(commit));
    const touched = new Set(items.filter((i) => durable(i.key)).map((i) => dirname(fileOf(i.key))));
    await Promise.all([...touched].map(syncFolder));
  };

  /** Removes temporary files a crashed process left (see TEMP_PID); live writers' stay. */
  const removeStale = (names: string[]): Promise<unknown> =>
    Promise.all(
      names.filter((n) => n.endsWith(TEMP_SUFFIX) && !inFlight.has(join(base, n)) && !writerAlive(n)).map((n) =>
        unlink(join(base, n)).catch(() => {})
      ),
    );
  /**
   * Once per process, at the first listing (the pool lists its keys at start): the whole folder is
   * swept, since later listings walk only their prefix's folder and statistics are never listed.
   */
  let swept: Promise<unknown> | undefined;
  const sweep = (): Promise<unknown> =>
    swept ??= (inner.getKeys("", {}) as Promise<string[]>).then(removeStale).catch(() => (swept = undefined));

  return {
    ...inner,
    name: "fs",
    options: opts,
    setItem: (key: string, value: string) => writeAll([{ key, value }]),
    setItemRaw: (key: string, value: Uint8Array) => writeAll([{ key, value }]),
    setItems: (items: Array<{ key: string; value: string }>) => writeAll(items),
    async getKeys(prefix: string | undefined, topts: { maxDepth?: number }) {
      await sweep();
      const names = prefix?.endsWith(":") && topts?.maxDepth === undefined
        ? await filesUnder(prefix!)
        : (await inner.getKeys(prefix ?? "", topts)) as string[];
      // A temporary file is a write that never finished: not a record; the old record stands.
      if (!names.some((n) => n.endsWith(TEMP_SUFFIX))) return names;
      await removeStale(names);
      return names.filter((n) => !n.endsWith(TEMP_SUFFIX));
    },
  };
});
