/**
 * The axes of the upstream fault matrix (issue 12) and its sampling. The full cross product
 * (20 statuses × 6 framings × 4 encodings × 3 body kinds × 3 surfaces × 2 transports × 3
 * runtimes) is 25,920 runs; each file samples it so that every value of every axis occurs and
 * every PAIR of values that interact meets at least once:
 *
 * - proxy: all 20 × 6 status/framing pairs, encoding `(s + f) % 4` and kind `(s + 2f) % 3`
 *   (s, f the indexes), which also covers every status/encoding, status/kind, framing/encoding,
 *   framing/kind and encoding/kind pair (`pairsCovered` proves it in the test) — 120 requests;
 * - probes (verify-key, health check): the same 120 status/framing/encoding cells (the body
 *   kind is the probe's own: a model list);
 * - both transports in every file, and the same files run on Node, Deno and Bun.
 * @module
 */
import type { OddScript } from "./odd_upstream.ts";

export const STATUSES = [
  "100-200",
  "103-200",
  "200",
  "204",
  "205",
  "304",
  "400",
  "401",
  "402",
  "403",
  "404",
  "408",
  "422",
  "429",
  "500",
  "502",
  "503",
  "599",
  "600",
  "999",
];
export const FRAMINGS: OddScript["framing"][] = ["cl", "chunked1", "pieces", "slow", "reset", "close"];
export const ENCODINGS: OddScript["encoding"][] = ["identity", "gzip", "br", "corrupt"];
export const KINDS = ["json", "sse", "ndjson"] as const;
export type Kind = (typeof KINDS)[number];

/** One sampled cell. */
export interface Cell {
  status: string;
  framing: OddScript["framing"];
  encoding: OddScript["encoding"];
  kind: Kind;
}

/** The sampled cells; see the module doc. */
export function sampledCells(): Cell[] {
  const cells: Cell[] = [];
  STATUSES.forEach((status, s) => {
    FRAMINGS.forEach((framing, f) => {
      cells.push({ status, framing, encoding: ENCODINGS[(s + f) % 4], kind: KINDS[(s + 2 * f) % 3] });
    });
  });
  return cells;
}

/** Pairs of axis values the cells never bring together (empty when the sampling is pairwise-complete). */
export function pairsMissing(cells: Cell[]): string[] {
  const axes: Array<[keyof Cell, readonly string[]]> = [["status", STATUSES], ["framing", FRAMINGS], [
    "encoding",
    ENCODINGS,
  ], ["kind", KINDS]];
  const seen = new Set(cells.flatMap((c) => axes.flatMap(([a]) => axes.map(([b]) => `${a}=${c[a]}|${b}=${c[b]}`))));
  const missing: string[] = [];
  for (const [a, av] of axes) {
    for (const [b, bv] of axes) {
      if (a >= b) continue;
      for (const x of av) {
        for (const y of bv) if (!seen.has(`${a}=${x}|${b}=${y}`)) missing.push(`${a}=${x} & ${b}=${y}`);
      }
    }
  }
  return missing;
}

/** The key that makes the raw mock answer as the cell says (and echo the key back). */
export function cellKey(c: Pick<Cell, "status" | "framing" | "encoding">, tag: string | number): string {
  return `odd.${c.status}.${c.framing}.${c.encoding}.echo.${tag}`;
}

/** The final status, and whether it comes after an interim 1xx. */
export function finalStatus(c: Pick<Cell, "status">): { status: number; interim?: number } {
  const [a, b] = c.status.split("-").map(Number);
  return b === undefined ? { status: a } : { status: b, interim: a };
}

/** The body does not arrive whole (cut off, or not decodable). */
export function bodyBreaks(c: Pick<Cell, "framing" | "encoding">): boolean {
  return c.framing === "reset" || c.encoding === "corrupt";
}

/**
 * What a client may get for a cell through the proxy with that one key: the upstream's own
 * status when the pool passes the answer on, else the pool's 503 (429 after a rate limit). A
 * 100 before the final answer is refused by undici's HTTP parser (Node's fetch and undiciFetch:
 * "bad response"), which makes it a failed attempt there; Deno and Bun pass the 200 on.
 */
export function proxyStatuses(c: Cell): number[] {
  const { status, interim } = finalStatus(c);
  const fail = status === 429 ? 429 : 503;
  const breaks = bodyBreaks(c);
  let passed: boolean;
  if (status === 204 || status === 205 || status === 304) passed = true;
  else if (status >= 200 && status < 300) passed = c.kind !== "json" || !breaks; // a stream has begun: in-band error
  else if (status === 400 || status === 404 || status === 422) passed = !breaks;
  else passed = false;
  const out = [passed ? status : fail];
  if (interim === 100) out.push(fail);
  return out;
}
