// Builds FIX messages from readable text for tests: "35=D|49=C|..." -> framed bytes with a
// correct BodyLength and CheckSum (or deliberately wrong ones).

export function frame(body: string, opts: { begin?: string; bodyLength?: number; checksum?: number } = {}): Buffer {
  const b = body.endsWith("|") ? body : `${body}|`;
  const bodyBytes = Buffer.from(b.replaceAll("|", "\x01"), "latin1");
  const head = Buffer.from(`8=${opts.begin ?? "FIX.4.4"}\x019=${opts.bodyLength ?? bodyBytes.length}\x01`, "latin1");
  const msg = Buffer.concat([head, bodyBytes]);
  let sum = 0;
  for (const c of msg) sum += c;
  const cs = opts.checksum ?? sum & 0xff;
  return Buffer.concat([msg, Buffer.from(`10=${String(cs).padStart(3, "0")}\x01`, "latin1")]);
}

export function text(msg: Uint8Array): string {
  return Buffer.from(msg).toString("latin1").replaceAll("\x01", "|");
}
