/**
 * Telling "this key cannot use that model" from other 404s. An account that lacks a model (a
 * plan without it, a region, a model not pulled on that server) answers 404 with a message about
 * the model; that says nothing about the key's use for other models, and another key may have it.
 * @module
 */

/** Most bytes of a 404 body looked at; "model not found" messages are far shorter. */
const MAX_LOOKED_AT = 16 * 1024;
const MISSING =
  /model.{0,200}(not[ _]found|does not exist|no such|not available|unknown)|(unknown|invalid) model|model_not_found/i;
const decoder = new TextDecoder();

/** Whether a 404 body (already read, bounded) says the model is not there. */
export function isModelMissing(body: Uint8Array): boolean {
  return MISSING.test(decoder.decode(body.subarray(0, MAX_LOOKED_AT)));
}
