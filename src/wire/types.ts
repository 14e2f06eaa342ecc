/**
 * The wire-format contract: everything the pool knows about one API dialect (OpenAI chat, OpenAI
 * Responses, Anthropic Messages, Ollama native ...) sits behind this interface, one module each,
 * so the proxy's mechanics (failover, the stream tap, the routes) never branch on a dialect.
 * Adding a dialect is one module plus the endpoints that use it.
 * @module
 */
import type { PoolError } from "../errors.ts";
import type { Usage } from "../types.ts";

/** What {@link WireFormat.inspect} learned from a request body. */
export interface Inspection {
  /** The answer will stream. */
  stream: boolean;
  /**
   * The body was changed (e.g. usage asked for on a stream the client did not ask it on): it is
   * sent re-serialized, and the tap drops what the client did not ask for.
   */
  rewritten: boolean;
}

/** One API dialect. Implementations are plain objects; see src/wire/*.ts. */
export interface WireFormat {
  /** Stable name, e.g. `openai_chat`, `anthropic_messages`. */
  readonly id: string;
  /** How the dialect's streams are framed: SSE events or NDJSON lines. */
  readonly framing: "sse" | "ndjson";
  /**
   * Line breaks that end one stream event, for estimating what a stream produced when its
   * client left before the usage came: default 2 for SSE (`data:` and a blank line), 1 for NDJSON.
   */
  readonly eventLines?: number;
  /**
   * Reads the stream flag of a JSON request body (already a validated object) and rewrites the
   * body where the dialect needs it. Throws a PoolError (400) for a field the pool relies on.
   */
  inspect(body: Record<string, unknown>): Inspection;
  /**
   * Usage from a whole JSON answer, read without parsing all of it (answers can be large and the
   * counts are near the end). Undefined when the answer reports none.
   */
  usageOfText(text: string): Usage | undefined;
  /**
   * Text every stream event (or line) that carries usage contains: events without it are passed
   * on unparsed. Undefined when the dialect's streams carry no usage.
   */
  readonly usageMarker?: string;
  /**
   * Usage after one parsed stream event that contains the marker, given what earlier events
   * said (dialects that report input and output in different events merge them here).
   */
  usageOfEvent(event: unknown, before: Usage | undefined): Usage | undefined;
  /** The event only carries usage the pool asked for (dropped when the body was rewritten). */
  isUsageOnly?(event: unknown): boolean;
  /** The pool's own error in this dialect's shape. */
  errorResponse(error: PoolError): Response;
  /** The in-band event that ends a stream which broke after it started. */
  streamError(message: string): string;
}
