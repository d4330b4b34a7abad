import Table from "cli-table3";

/** Tables without a rule between rows: easier to scan, and half the height. */
export const COMPACT = { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" } as const;

/** Prints rows as a table for people, or the given value as JSON for scripts. */
export function printTable(
  json: boolean,
  value: unknown,
  head: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  empty = "(none)",
): void {
  if (json) {
    process.stdout.write(JSON.stringify(value, null, 2) + "\n");
    return;
  }
  if (rows.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  const table = new Table({ head: [...head], chars: COMPACT, style: { head: [], border: [] } });
  for (const row of rows) table.push(row.map(String));
  process.stdout.write(table.toString() + "\n");
}

/** Prints a message for people, or a value as JSON for scripts. */
export function printResult(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + "\n" : `${text}\n`);
}
