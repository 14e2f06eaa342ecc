/** Long admin work answered as NDJSON progress lines, when the client asks for them. @module */

/** Whether the client asked for NDJSON (`Accept: application/x-ndjson`). */
export function wantsNdjson(req: Request): boolean {
  return (req.headers.get("accept") ?? "").includes("application/x-ndjson");
}

/**
 * Streams `{"type":"progress",…}` lines while `run` works (at most every `everyMs`, plus one per
 * `report` call that is due), then one `{"type":"done",…}` line with its result.
 */
export function progressResponse<T>(
  run: (report: (progress: Record<string, unknown>) => void) => Promise<T>,
  everyMs = 250,
): Response {
  const encoder = new TextEncoder();
  let last = 0;
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const line = (o: unknown) => controller.enqueue(encoder.encode(`${JSON.stringify(o)}\n`));
      const report = (p: Record<string, unknown>) => {
        const now = Date.now();
        if (now - last < everyMs) return;
        last = now;
        line({ type: "progress", ...p });
      };
      try {
        line({ type: "done", ...(await run(report)) as Record<string, unknown> });
      } catch (err) {
        line({
          type: "error",
          error: { message: (err as Error)?.message ?? String(err), type: "server_error", code: "job_failed" },
        });
      }
      controller.close();
    },
  });
  return new Response(body, {
    headers: { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store" },
  });
}
