/** Admin: health checks (jobs with progress), single-key verification, validated import. @module */
import { Hono } from "hono";
import { badRequest, PoolError } from "../errors.ts";
import type { HealthJob } from "../keys/health.ts";
import { parseKeyLines } from "../keys/parse.ts";
import { modelFamilies, probeKey, runBounded } from "../keys/probe.ts";
import { keyId, maskSecret } from "../keys/secrets.ts";
import type { PoolState } from "../state.ts";
import { GET_HEALTH_CHECK, START_HEALTH_CHECK, VERIFY_KEY } from "../openapi/admin_health.ts";
import { jsonBody, type PoolEnv, providerParam } from "./context.ts";
import { serve } from "./contract.ts";
import { progressResponse, wantsNdjson } from "./progress.ts";

function jobView(job: HealthJob, results?: unknown[]): Record<string, unknown> {
  return {
    jobId: job.id,
    provider: job.provider,
    total: job.total,
    done: job.done,
    healthy: job.healthy,
    unhealthy: job.unhealthy,
    running: job.finishedAt === null,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    ...(results ? { results } : {}),
  };
}

export function adminHealthRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();
  const o = state.options;
  const rules = { ...o.failover };

  serve(app, "/admin", state, START_HEALTH_CHECK, async (c, { query, body, provider: id }) => {
    const provider = state.providers.get(id)!;
    const pool = state.keys.pool(provider.id);
    const ids = body.ids ??
      (body.status ? [...pool.values()].filter((r) => r.state === body.status).map((r) => r.id) : undefined);
    if (wantsNdjson(c.req.raw)) {
      return progressResponse(async (report) => {
        const job = state.health.start(provider, ids, (j) => report(jobView(j)));
        await job.finished;
        return jobView(job, job.results);
      });
    }
    const job = state.health.start(provider, ids);
    if (query.wait === "true") {
      await job.finished;
      return c.json(jobView(job, job.results));
    }
    return c.json({ ...jobView(job), progress: `/admin/keys/health-check/${job.id}` }, 202);
  });

  serve(app, "/admin", state, GET_HEALTH_CHECK, (c, { params, query: { page, pageSize } }) => {
    const job = state.health.get(params.jobId);
    if (!job) throw new PoolError(404, "job_not_found", "no such health-check job (only the latest 20 are kept)");
    return c.json({ ...jobView(job, job.results.slice((page - 1) * pageSize, page * pageSize)), page, pageSize });
  });

  serve(app, "/admin", state, VERIFY_KEY, async (c, { body: { apiKey: secret }, provider: id }) => {
    const provider = state.providers.get(id)!;
    const r = await probeKey(o.fetch, provider, secret, o.healthCheck.timeoutMs, rules, o.maxResponseBytes, o.now);
    return c.json({
      valid: r.healthy,
      status: r.status ?? null,
      error: r.reason ?? null,
      apiKey: maskSecret(secret),
      families: modelFamilies(r.models ?? []),
      models: r.models ?? [],
      timestamp: new Date(o.now()).toISOString(),
    });
  });

  app.post("/api-keys/import-with-validation", async (c) => {
    const body = await jsonBody(c, state);
    const provider = state.providers.get(providerParam(c, state, body))!;
    if (typeof body.content !== "string") {
      throw badRequest("'content' must be the text of an ollama.txt file", "missing_field");
    }
    const parsed = parseKeyLines(body.content);
    const pool = state.keys.pool(provider.id);
    const seen = new Set<string>();
    const fresh = parsed.keys.filter((k) => {
      const id = keyId(provider.id, k.secret);
      if (pool.has(id) || seen.has(id)) return false;
      seen.add(id);
      return true;
    });
    const run = async (report?: (p: Record<string, unknown>) => void) => {
      let done = 0;
      const probes = await runBounded(
        fresh,
        o.healthCheck.concurrency,
        (k) => probeKey(o.fetch, provider, k.secret, o.healthCheck.timeoutMs, rules, o.maxResponseBytes, o.now),
        () => {
          done++;
          report?.({ done, total: fresh.length });
        },
      );
      const valid = fresh.filter((_, i) => probes[i].healthy);
      const added = await state.keys.add(provider.id, valid);
      valid.forEach((k, i) => {
        const models = probes[fresh.indexOf(k)].models;
        if (models) pool.setModels(added.ids[i], models);
      });
      const categories: Record<string, number> = {};
      const validView = valid.map((k, i) => {
        const families = modelFamilies(probes[fresh.indexOf(k)].models ?? []);
        for (const f of families) categories[f] = (categories[f] ?? 0) + 1;
        return { id: added.ids[i], key: maskSecret(k.secret), username: k.label ?? null, families };
      });
      const invalid = [
        ...parsed.invalid.map((x) => ({ line: x.line, key: null, reason: x.reason })),
        ...fresh.flatMap((k, i) =>
          probes[i].healthy ? [] : [{ line: k.line, key: maskSecret(k.secret), reason: probes[i].reason ?? "invalid" }]
        ),
      ].sort((a, b) => a.line - b.line);
      return {
        provider: provider.id,
        total: parsed.total,
        added: added.added,
        existing: parsed.keys.length - fresh.length,
        valid: validView,
        invalid,
        categories,
      };
    };
    return wantsNdjson(c.req.raw) ? progressResponse(run) : c.json(await run());
  });
  return app;
}
