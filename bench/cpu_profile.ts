/**
 * Reading the profiles Node writes with `--cpu-prof`: self time per function and per file, as text, for bench/stream_profile.ts and
 * bench/request_profile.ts.
 * @module
 */
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
/** A `.cpuprofile` file. */
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}
function names(f: CallFrame): { key: string; group: string } {
  const file = f.url.replace(/^file:\/\//, "").replace(ROOT, "").replace(/.*node_modules\//, "node_modules/") ||
    "(native)";
  const key = `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
  const group = file.startsWith("node_modules/")
    ? file.split("/").slice(0, file.startsWith("node_modules/@") ? 3 : 2).join("/")
    : file;
  return { key, group };
}

function top(m: Map<string, number>, total: number, n: number): string {
  return [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) =>
    `${((v / total) * 100).toFixed(1).padStart(5)} %  ${k}`
  ).join("\n");
}

/** Self time per function and per file, in % of the profile's samples (idle excluded). */
export function summarize(p: Profile, functions = 30): string {
  const byNode = new Map<number, ProfileNode>(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const f = byNode.get(p.samples[i])!.callFrame;
    if (f.functionName === "(idle)" || f.functionName === "(program)") continue;
    const dt = p.timeDeltas[i] ?? 0;
    busy += dt;
    const { key, group } = names(f);
    self.set(key, (self.get(key) ?? 0) + dt);
    files.set(group, (files.get(group) ?? 0) + dt);
  }
  return `busy ${(busy / 1000).toFixed(0)} ms\n\nself time by function:\n${top(self, busy, functions)}\n\nby file:\n${
    top(files, busy, 20)
  }`;
}
