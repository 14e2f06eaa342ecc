/**
 * Whether a chunk of bytes contains a wire format's usage marker, without decoding it to text:
 * the stream tap asks this of every chunk, and most chunks (content deltas) do not contain it.
 * @module
 */

/** Letters from the most to the least frequent in English text (and so in JSON content). */
const LETTER_FREQUENCY = "etaoinshrdlucmfwypvbgkjqxz";

/**
 * The byte of `marker` least likely in ordinary stream text, and where it sits: searching for it
 * first finds few false starts (`g` of `"usage"`, not its quote). Non-letters count as common.
 */
function rarestByte(marker: Uint8Array): { byte: number; at: number } {
  let at = 0;
  let best = -1;
  marker.forEach((b, i) => {
    const rank = LETTER_FREQUENCY.indexOf(String.fromCharCode(b));
    if (rank > best) (best = rank, at = i);
  });
  return { byte: marker[at], at };
}

/** A search for `marker` in byte chunks: its rarest byte is found first (native indexOf), then the rest compared. */
export function markerSearch(marker: Uint8Array): (bytes: Uint8Array) => boolean {
  const rare = rarestByte(marker);
  return (b) => {
    const last = b.length - marker.length + rare.at;
    for (let i = b.indexOf(rare.byte, rare.at); i >= 0 && i <= last; i = b.indexOf(rare.byte, i + 1)) {
      let j = 0;
      const start = i - rare.at;
      while (j < marker.length && b[start + j] === marker[j]) j++;
      if (j === marker.length) return true;
    }
    return false;
  };
}
