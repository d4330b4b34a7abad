/**
 * Turns a service's JSON log line (pino) into one short line for a terminal:
 * `12:01:02.345 INFO  risk gateway started grpcPort=7401`. Lines that are not JSON pass through.
 */
const LEVELS: Record<string, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO ",
  40: "WARN ",
  50: "ERROR",
  60: "FATAL",
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO ",
  warn: "WARN ",
  error: "ERROR",
  fatal: "FATAL",
};
const HIDDEN = new Set(["level", "time", "msg", "pid", "hostname", "service", "venue", "instance", "partition"]);

export function formatLogLine(line: string): string {
  if (!line.startsWith("{")) return line;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (record.level === undefined || record.msg === undefined) return line;
  const time =
    typeof record.time === "number" || typeof record.time === "string"
      ? new Date(record.time).toISOString().slice(11, 23)
      : "";
  const level = LEVELS[String(record.level)] ?? String(record.level);
  const fields = Object.entries(record)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${time} ${level} ${String(record.msg ?? "")}${fields ? ` ${fields}` : ""}`;
}
