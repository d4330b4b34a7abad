// "00".."99" as ASCII byte pairs with each pair's byte sum: the encoder and the timestamp
// writer put down two digits per division (or per table read) and add them to a CheckSum.

/** PAIRS[2n] and PAIRS[2n + 1] are the two digits of n, for n below 100. */
export const PAIRS = new Uint8Array(200);
/** The byte sum of n's two digits. */
export const PAIR_SUMS = new Uint8Array(100);
/** n's two digits as a little-endian 16-bit value, for a two-byte store (or the low half of a word). */
export const PAIR_WORDS = new Int32Array(100);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = 0x30 + Math.floor(i / 10);
  PAIRS[2 * i + 1] = 0x30 + (i % 10);
  PAIR_SUMS[i] = PAIRS[2 * i]! + PAIRS[2 * i + 1]!;
  PAIR_WORDS[i] = PAIRS[2 * i]! | (PAIRS[2 * i + 1]! << 8);
}
