/**
 * Probing keys: one cheap authorized request per key, with a timeout, run with bounded
 * concurrency; and the model families a key can actually use, from its own model list.
 * @module
 */
import { classifyDefault } from "../providers/classify.ts";
import { bodyForClassify, type ClassifyRules, type KeyOutcome, type Provider } from "../providers/types.ts";
import type { FetchLike } from "../types.ts";
import { invalidStatus } from "../proxy/attempt.ts";
import { readBody } from "../proxy/body.ts";
import { readErrorBody } from "../proxy/error_body.ts";
import { MAX_MODEL_NAME, MAX_MODELS_PER_KEY } from "./models.ts";

/**
 * The names of a model list a probe keeps: distinct, sane, without the key, and at most one more
 * than a key's list may hold, which is enough to tell "too long: serves any model" (see
 * cleanModelList). An upstream listing 100,000 names made every probe result (and each kept
 * health-check job, one model family per name) hold all of them.
 */
function keptNames(listed: string[], secret: string): string[] {
  const kept = new Set<string>();
  for (const m of listed) {
    if (typeof m !== "string" || m === "" || m.length > MAX_MODEL_NAME || m.includes(secret)) continue;
    kept.add(m);
    if (kept.size > MAX_MODELS_PER_KEY) break;
  }
  return [...kept];
}

/** What probing one key found. */
export interface ProbeResult {
  healthy: boolean;
  /** Upstream status, when it answered. */
  status?: number;
  /** Why it is not healthy. */
  reason?: string;
  /** Models this key lists (when the probe reads a model list). */
  models?: string[];
  outcome: KeyOutcome;
  ms: number;
}

/** Probes one key. Never throws: every failure (a provider hook's included) is a result. `now`: the pool's clock, for reset times. */
export async function probeKey(
  fetch: FetchLike,
  provider: Provider,
  secret: string,
  timeoutMs: number,
  rules: ClassifyRules,
  maxBytes = 32 * 1024 * 1024,
  now: () => number = Date.now,
): Promise<ProbeResult> {
  const t0 = Date.now();
  try {
    return await probe(fetch, provider, secret, timeoutMs, rules, maxBytes, t0, now);
  } catch (err) {
    const reason = `probe failed (${(err as Error)?.message ?? err})`;
    return {
      healthy: false,
      reason,
      outcome: { kind: "cooldown", ms: rules.errorCooldownMs, reason },
      ms: Date.now() - t0,
    };
  }
}

async function probe(
  fetch: FetchLike,
  provider: Provider,
  secret: string,
  timeoutMs: number,
  rules: ClassifyRules,
  maxBytes: number,
  t0: number,
  now: () => number,
): Promise<ProbeResult> {
  const spec = provider.probe;
  if (!spec) {
    return {
      healthy: false,
      reason: `provider "${provider.id}" has no probe`,
      outcome: { kind: "client-error" },
      ms: 0,
    };
  }
  const headers = new Headers(provider.headers);
  if (spec.body) headers.set("content-type", "application/json");
  provider.authorize(headers, secret);
  let res: Response | Error;
  try {
    // The signal bounds the whole probe, body included.
    res = await fetch(spec.url, {
      method: spec.method,
      headers,
      body: spec.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status < 200 || res.status > 599) {
      await res.body?.cancel().catch(() => {});
      res = invalidStatus(res.status);
    }
  } catch (err) {
    res = err instanceof Error ? err : new Error(String(err));
  }
  // As on the proxy path: the body of an answer that is no success may hold the reason (a usage cap).
  const body = !(res instanceof Error) && bodyForClassify(res.status) ? await readErrorBody(res) : undefined;
  const outcome = provider.classify?.(res, rules, { now: now(), body }) ?? classifyDefault(res, rules, now());
  const ms = Date.now() - t0;
  if (res instanceof Error) {
    return { healthy: false, reason: outcome.kind === "cooldown" ? outcome.reason : res.message, outcome, ms };
  }
  if (outcome.kind !== "ok") {
    await res.body?.cancel().catch(() => {});
    const reason = outcome.kind === "client-error" ? `upstream answered ${res.status}` : outcome.reason;
    return { healthy: false, status: res.status, reason, outcome, ms };
  }
  let models: string[] | undefined;
  if (spec.models) {
    const read = await readBody(res, { maxBytes, idleMs: timeoutMs, totalMs: timeoutMs });
    try {
      // Model ids are the upstream's words: one that echoes the key is not shown.
      models = read.ok ? keptNames(spec.models(JSON.parse(new TextDecoder().decode(read.bytes))), secret) : undefined;
    } catch {
      models = undefined; // a healthy key whose list we cannot read is still healthy
    }
  } else {
    await res.body?.cancel().catch(() => {});
  }
  return { healthy: true, status: res.status, models, outcome, ms };
}

/**
 * Runs `fn` over `items` with at most `concurrency` at once, reporting each result as it comes.
 */
export async function runBounded<T, R>(
  items: T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
  onResult?: (r: R, index: number) => void,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
      onResult?.(out[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

/**
 * Model families from model ids: the name without vendor prefix, tag or version, e.g.
 * `meta-llama/llama-3.1-8b` -> `llama`, `qwen3:8b` -> `qwen`, `kimi-k2:1t` -> `kimi`,
 * `gpt-oss:20b` -> `gpt-oss`.
 */
export function modelFamilies(models: string[]): string[] {
  const families = new Set<string>();
  for (const id of models) {
    const base = id.toLowerCase().split("/").pop()!.split(":")[0];
    // "kimi-k2" and "deepseek-v3.1" lose "-k2"/"-v3.1"; "llama3.2" and "qwen3-coder" lose the rest from the digit.
    const family = base.replace(/[-_.][a-z]?\d.*$/, "").replace(/\d.*$/, "") || base;
    if (family) families.add(family);
  }
  return [...families].sort();
}
