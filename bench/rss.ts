/**
 * Resident memory of a process, from /proc/<pid>/status (Linux only; the benchmarks that need
 * it say so when it is missing). VmRSS is what the process holds now, VmHWM its peak so far.
 * @module
 */
import { readFileSync } from "node:fs";

function field(pid: number, name: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
  if (!m) throw new Error(`no ${name} in /proc/${pid}/status`);
  return Number(m[1]);
}

/** Current resident set size of `pid`, KB. */
export const rssKb = (pid: number): number => field(pid, "VmRSS");

/** Peak resident set size of `pid` so far, KB. */
export const peakRssKb = (pid: number): number => field(pid, "VmHWM");
