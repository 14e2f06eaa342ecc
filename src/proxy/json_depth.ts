/**
 * A nesting bound for JSON bodies, checked before anything recursive touches them: a
 * 100,000-deep body overflowed the stack in `JSON.stringify` (a 500 and a stack trace in the
 * log). One pass over the text, counting open brackets outside strings; no allocation. It costs
 * about as much as the `JSON.parse` that follows (one run on a shared 2-core machine: 2 µs for a
 * 2 KB chat body, 1.5 ms for 1.4 MB).
 * @module
 */
import { badRequest } from "../errors.ts";

/**
 * Deepest nesting of arrays and objects accepted. Real requests (messages, content parts, tool
 * schemas) stay far below it.
 */
export const MAX_JSON_DEPTH = 128;

const QUOTE = 0x22, BACKSLASH = 0x5c, OPEN_BRACE = 0x7b, OPEN_BRACKET = 0x5b, CLOSE_BRACE = 0x7d, CLOSE_BRACKET = 0x5d;

/** Throws 400 `json_too_deep` when `text` nests arrays and objects deeper than `max`. */
export function checkJsonDepth(text: string, max: number = MAX_JSON_DEPTH): void {
  // Each level needs at least one bracket, so a short text cannot be too deep.
  if (text.length <= max) return;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === QUOTE) {
      // Strings are most of a body's bytes: jump to the closing quote (native indexOf) instead
      // of looking at each character. A quote after an odd run of backslashes is escaped.
      for (let from = i + 1;;) {
        const q = text.indexOf('"', from);
        if (q < 0) return; // unterminated: JSON.parse reports it
        let slashes = 0;
        while (text.charCodeAt(q - 1 - slashes) === BACKSLASH) slashes++;
        if (slashes % 2 === 0) {
          i = q;
          break;
        }
        from = q + 1;
      }
    } else if (ch === OPEN_BRACE || ch === OPEN_BRACKET) {
      if (++depth > max) throw badRequest(`request body nests JSON deeper than ${max} levels`, "json_too_deep");
    } else if (ch === CLOSE_BRACE || ch === CLOSE_BRACKET) {
      depth--;
    }
  }
}
