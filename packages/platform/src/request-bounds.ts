/**
 * Size bounds every gRPC request meets before any handler sees it, and the bound on what
 * of a client's input an answer may repeat. Field-specific limits (an account name's 64
 * characters, a batch's 1,000 requests) are checked by each service; these bounds hold for
 * every field of every call, so that nothing a client sends is looked up, logged or echoed
 * at an unbounded size.
 */

/** Longest string (in UTF-16 code units) any request field may hold. */
export const MAX_REQUEST_STRING_CHARS = 1_024;
/** Most elements a repeated field (or bytes field, in bytes) of a request may hold. */
export const MAX_REQUEST_REPEATED = 10_000;
/** Longest status message (gRPC error details) a service sends. */
export const MAX_STATUS_MESSAGE_CHARS = 256;
/** Longest excerpt of client input put into a message or report. */
export const MAX_ECHO_CHARS = 40;

/** The first field path of a decoded request that breaks a bound, with why; undefined when none does. */
export function requestBoundsProblem(request: unknown): string | undefined {
  return walk(request, "", 0);
}

function walk(value: unknown, path: string, depth: number): string | undefined {
  if (typeof value === "string")
    return value.length > MAX_REQUEST_STRING_CHARS
      ? `${path || "request"}: longer than ${MAX_REQUEST_STRING_CHARS} characters`
      : undefined;
  if (typeof value !== "object" || value === null) return undefined;
  // Proto messages nest only as deep as their schema; this stops a cycle, never a real request.
  if (depth > 32) return `${path}: nested too deeply`;
  if (value instanceof Uint8Array)
    return value.length > MAX_REQUEST_REPEATED ? `${path}: longer than ${MAX_REQUEST_REPEATED} bytes` : undefined;
  if (Array.isArray(value)) {
    if (value.length > MAX_REQUEST_REPEATED) return `${path}: more than ${MAX_REQUEST_REPEATED} elements`;
    for (let i = 0; i < value.length; i++) {
      const problem = walk(value[i], `${path}[${i}]`, depth + 1);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  // A map field decodes as an object: its keys are client input too.
  for (const key in value) {
    if (key.length > MAX_REQUEST_STRING_CHARS)
      return `${path || "request"}: a key longer than ${MAX_REQUEST_STRING_CHARS} characters`;
    const child = (value as Record<string, unknown>)[key];
    if (typeof child !== "string" && (typeof child !== "object" || child === null)) continue;
    // A oneof decodes as {$case, value}: its path is the case's name.
    const name = key === "value" && "$case" in value ? String((value as { $case: unknown }).$case) : key;
    if (key === "$case") continue;
    const problem = walk(child, path === "" ? name : `${path}.${name}`, depth + 1);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** A short, printable excerpt of client input for a message: quoted, at most MAX_ECHO_CHARS characters of it. */
export function excerpt(input: string, max = MAX_ECHO_CHARS): string {
  const cut = input.length > max ? `${input.slice(0, max)}…` : input;
  return JSON.stringify(cut);
}

/** A status message cut to MAX_STATUS_MESSAGE_CHARS. */
export function boundedStatusMessage(text: string): string {
  return text.length > MAX_STATUS_MESSAGE_CHARS ? `${text.slice(0, MAX_STATUS_MESSAGE_CHARS - 1)}…` : text;
}
