/**
 * A preload (`node --import ./bench/gc_observer.ts …`) that writes one line per garbage
 * collection of the process to the file named by GC_TRACE_FILE (tab-separated: epoch ms, kind,
 * duration ms), plus a heap line (used/total MB, old space MB) every 500 ms. bench/gc_tail.ts
 * reads it to put the collections beside the latency of each phase.
 * @module
 */
import { appendFileSync } from "node:fs";
import { constants, PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";

const file = process.env.GC_TRACE_FILE;
if (file) {
  const KINDS: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: "scavenge",
    [constants.NODE_PERFORMANCE_GC_MAJOR]: "mark-compact",
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weak",
  };
  // Lines are buffered and written every 500 ms: a write per collection would itself add pauses.
  let lines: string[] = [];
  const origin = performance.timeOrigin;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = KINDS[(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? "other";
      lines.push(`${(origin + e.startTime).toFixed(1)}\t${kind}\t${e.duration.toFixed(3)}`);
    }
  }).observe({ entryTypes: ["gc"] });
  const flush = (): void => {
    const h = v8.getHeapStatistics();
    const old = v8.getHeapSpaceStatistics().find((s) => s.space_name === "old_space");
    lines.push(
      `${Date.now()}\theap\t${(h.used_heap_size / 1e6).toFixed(1)}\t${(h.total_heap_size / 1e6).toFixed(1)}\t${
        ((old?.space_size ?? 0) / 1e6).toFixed(1)
      }`,
    );
    appendFileSync(file, lines.join("\n") + "\n");
    lines = [];
  };
  setInterval(flush, 500).unref();
  process.on("exit", flush);
}
