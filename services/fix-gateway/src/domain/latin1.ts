// Bytes to a string, one byte per character (FIX values are ASCII): the one place the
// codec allocates for a field, when a caller asks for a string.

/** The string of buf[start, end), a character per byte. */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  // Up to 24 bytes (every Symbol and Account, most ClOrdIDs): one fromCharCode call with an
  // argument per byte makes the string in one allocation (a loop of `+=` made one per byte;
  // the runtime's slice costs a call out). Each case reads exactly its end - start bytes.
  const b = buf;
  const s = start;
  // prettier-ignore
  switch (end - start) {
    case 0: return "";
    case 1: return f(b[s]);
    case 2: return f(b[s], b[s + 1]);
    case 3: return f(b[s], b[s + 1], b[s + 2]);
    case 4: return f(b[s], b[s + 1], b[s + 2], b[s + 3]);
    case 5: return f(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4]);
    case 6: return f(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5]);
    case 7: return f(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6]);
    case 8: return f(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7]);
    case 9: return f(
      b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7],
      b[s + 8]);
    case 10: return f(
      b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7],
      b[s + 8], b[s + 9]);
    case 11: return f(
      b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7],
      b[s + 8], b[s + 9], b[s + 10]);
    case 12: return f(
      b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7],
      b[s + 8], b[s + 9], b[s + 10], b[s + 11]);
    case 13: return f(
      b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7],
      b[s + 8], b[s + 9], b[s + 10], b[s + 11], b[s + 12]);
    case 14: return f(
      b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7],
      b[s + 8], b[s + 9], b[s + 10], b[s + 11], b[s + 12], b[s + 13]);
    case 15: return f(
      b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7],
      b[s + 8], b[s + 9], b[s + 10], b[s + 11], b[s + 12], b[s + 13], b[s + 14]);
    case 16: return f(
      b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7],
      b[s + 8], b[s + 9], b[s + 10], b[s + 11], b[s + 12], b[s + 13], b[s + 14], b[s + 15]);
    case 17: return f(
      b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7],
      b[s + 8], b[s + 9], b[s + 10], b[s + 11], b[s + 12], b[s + 13], b[s + 14], b[s + 15],
      b[s + 16]);
    case 18: return f(
      b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7],
      b[s + 8], b[s + 9], b[s + 10], b[s + 11], b[s + 12], b[s + 13], b[s + 14], b[s + 15],
      b[s + 16], b[s + 17]);
    case 19: return f(
      b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7],
      b[s + 8], b[s + 9], b[s + 10], b[s + 11], b[s + 12], b[s + 13], b[s + 14], b[s + 15],
      b[s + 16], b[s + 17], b[s + 18]);
    case 20: return f(
      b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7],
      b[s + 8], b[s + 9], b[s + 10], b[s + 11], b[s + 12], b[s + 13], b[s + 14], b[s + 15],
      b[s + 16], b[s + 17], b[s + 18], b[s + 19]);
    case 21: return f(
      b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7],
      b[s + 8], b[s + 9], b[s + 10], b[s + 11], b[s + 12], b[s + 13], b[s + 14], b[s + 15],
      b[s + 16], b[s + 17], b[s + 18], b[s + 19], b[s + 20]);
    case 22: return f(
      b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7],
      b[s + 8], b[s + 9], b[s + 10], b[s + 11], b[s + 12], b[s + 13], b[s + 14], b[s + 15],
      b[s + 16], b[s + 17], b[s + 18], b[s + 19], b[s + 20], b[s + 21]);
    case 23: return f(
      b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7],
      b[s + 8], b[s + 9], b[s + 10], b[s + 11], b[s + 12], b[s + 13], b[s + 14], b[s + 15],
      b[s + 16], b[s + 17], b[s + 18], b[s + 19], b[s + 20], b[s + 21], b[s + 22]);
    case 24: return f(
      b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7],
      b[s + 8], b[s + 9], b[s + 10], b[s + 11], b[s + 12], b[s + 13], b[s + 14], b[s + 15],
      b[s + 16], b[s + 17], b[s + 18], b[s + 19], b[s + 20], b[s + 21], b[s + 22], b[s + 23]);
  }
  // Bytes from a socket are a Buffer already: toString on it is half the cost of wrapping them in one.
  if (Buffer.isBuffer(buf)) return buf.toString("latin1", start, end);
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString("latin1");
}

/** fromCharCode, typed for indexed reads that are in bounds by construction (see the cases). */
const f = String.fromCharCode as (...codes: (number | undefined)[]) => string;
