/**
 * What a test suite needs beyond npm packages, found once, and the one way a suite is skipped
 * when something is missing. A skip is never silent: the reason shows in the runner's output, on
 * stderr when the suite is declared, and in the file named by POOL_TEST_SKIP_LOG, from which
 * tests/run.sh prints a summary at the end. `npm run test:quick` (POOL_TEST_QUICK=1) treats
 * everything here as missing, leaving the in-process suites.
 *
 * `tests/run.sh` installs the Debian packages when it runs as root with apt-get; elsewhere install
 * them yourself: `apt-get install redis-server postgresql websockify chromium`.
 * @module
 */
import { accessSync, appendFileSync, constants, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * Things a suite may need: Debian packages for the services and the browser; "processes" for
 * suites that start child processes (the CLI, Deno, Bun, npm, workerd) and "time" for suites
 * that take seconds by design (100,000 keys, minutes of load squeezed into seconds). The quick
 * run leaves all of them out to stay fast. "agents" is opt-in (POOL_AGENT_TESTS=1, `npm run
 * test:agents`): the coding-agent suites start processes of a few hundred MB each.
 */
export type Need = "redis-server" | "postgresql" | "websockify" | "chromium" | "processes" | "time" | "agents";

/** Needs that are off unless asked for: their skips are reported but never fail a strict run. */
const OPT_IN = new Set<Need>(["agents"]);

const QUICK = process.env.POOL_TEST_QUICK === "1";

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The full path of a command on PATH, or undefined. */
export function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && executable(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

/** The bin folder of the newest PostgreSQL installed by Debian's packages, or undefined. */
export function postgresBinDir(): string | undefined {
  let versions: string[];
  try {
    versions = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a));
  } catch {
    return undefined;
  }
  return versions.map((v) => `/usr/lib/postgresql/${v}/bin`).find((dir) => executable(join(dir, "initdb")));
}

/** Where Debian's `apt-get install chromium` puts the browser (CHROMIUM_PATH overrides). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const APT_HINT =
  "install it with `apt-get install redis-server postgresql websockify chromium`, or run `npm test` as root";

/** Why `need` cannot be had here, or undefined when it can. */
function whyMissing(need: Need): string | undefined {
  if (QUICK) return "left out of the quick run";
  switch (need) {
    case "redis-server":
      return onPath("redis-server") ? undefined : `redis-server is not on PATH (${APT_HINT})`;
    case "postgresql":
      if (!postgresBinDir()) return `PostgreSQL's initdb is not in /usr/lib/postgresql/*/bin (${APT_HINT})`;
      // initdb refuses to run as root; as root the tests run it as the postgres user.
      if (process.getuid?.() === 0 && !onPath("runuser")) {
        return "running as root without runuser to start PostgreSQL as the postgres user";
      }
      return undefined;
    case "websockify":
      return onPath("websockify") ? undefined : `websockify is not on PATH (${APT_HINT})`;
    case "chromium":
      return executable(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (set CHROMIUM_PATH, or ${APT_HINT})`;
    case "processes":
    case "time":
      return undefined;
    case "agents":
      return process.env.POOL_AGENT_TESTS === "1" ? undefined : "opt-in: set POOL_AGENT_TESTS=1 (npm run test:agents)";
  }
}

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

/**
 * Options for `describe`/`it`: `{ skip: reason }` when any of `needs` is missing, after saying so
 * on stderr and in POOL_TEST_SKIP_LOG (suite, reason, runtime, and "opt-in" or "missing": only
 * the latter fails a POOL_TEST_STRICT=1 run). Usage:
 * `describe(name, skipUnless(name, "redis-server"), () => …)`.
 */
export function skipUnless(suite: string, ...needs: Need[]): { skip?: string } {
  const reasons = [...new Set(needs.map(whyMissing).filter((r): r is string => r !== undefined))];
  if (reasons.length === 0) return {};
  const skip = reasons.join("; ");
  if (!QUICK) console.error(`# SKIP ${suite}: ${skip}`);
  const log = process.env.POOL_TEST_SKIP_LOG;
  const kind = needs.every((n) => OPT_IN.has(n) || whyMissing(n) === undefined) ? "opt-in" : "missing";
  if (log) appendFileSync(log, `${suite}\t${skip}\t${runtime}\t${kind}\n`);
  return { skip };
}
