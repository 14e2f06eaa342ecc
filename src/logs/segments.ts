/**
 * How the request log sits in storage: records are written in batches ("segments"), one storage
 * item per batch, never one per record (on filesystem storage one file per request would fill the
 * disk with inodes). A segment's name carries what a query needs to skip it unread:
 *
 *   logs:<YYYYMMDDHH>:<maxT>-<minT>-<instance>-<seq>
 *
 * the UTC hour of its records (one folder per hour on filesystem storage), the newest and oldest
 * record time (13-digit epoch ms, so names sort as numbers), the writing instance (random per
 * process) and a counter. Each instance writes only its own records, so several instances on one
 * store form one log without duplicates.
 * @module
 */
import type { LogRecord } from "./types.ts";
import { PREFIX } from "../store/key_names.ts";

/** The storage prefix of the request log. */
export const LOG_PREFIX: string = PREFIX.logs;

/** A segment as known from its name. */
export interface SegmentName {
  name: string;
  maxT: number;
  minT: number;
}

const pad = (t: number): string => String(Math.max(0, Math.floor(t))).padStart(13, "0");

/** `YYYYMMDDHH` of an epoch-ms time, UTC. */
export function hourOf(t: number): string {
  return new Date(t).toISOString().slice(0, 13).replace(/[-T]/g, "");
}

/** The name of a segment holding `records` (all of one hour), written by `instance` as its `seq`th. */
export function segmentName(records: LogRecord[], instance: string, seq: number): SegmentName {
  let maxT = -Infinity;
  let minT = Infinity;
  for (const r of records) {
    if (r.t > maxT) maxT = r.t;
    if (r.t < minT) minT = r.t;
  }
  return { name: `${LOG_PREFIX}:${hourOf(minT)}:${pad(maxT)}-${pad(minT)}-${instance}-${seq}`, maxT, minT };
}

/** Reads a stored item name back; undefined for anything that is not a segment of ours. */
export function parseSegment(name: string): SegmentName | undefined {
  const m = /^logs:\d{10}:(\d{13})-(\d{13})-[a-z0-9]+-\d+$/.exec(name);
  return m ? { name, maxT: Number(m[1]), minT: Number(m[2]) } : undefined;
}

/** Records grouped by their UTC hour, each group at most `max` long (one segment each). */
export function groupForSegments(records: LogRecord[], max: number): LogRecord[][] {
  const byHour = new Map<string, LogRecord[]>();
  for (const r of records) {
    const h = hourOf(r.t);
    let g = byHour.get(h);
    if (!g) byHour.set(h, g = []);
    g.push(r);
  }
  const out: LogRecord[][] = [];
  for (const g of byHour.values()) for (let i = 0; i < g.length; i += max) out.push(g.slice(i, i + max));
  return out;
}
