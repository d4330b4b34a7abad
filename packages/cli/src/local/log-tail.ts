import { closeSync, openSync, readSync, statSync } from "node:fs";

/**
 * Follows a log file that a child process appends to, handing each complete new line to
 * onLine (like `tail -f`). Polling keeps it simple and works on every file system.
 */
export class LogTail {
  private offset: number;
  private partial = "";
  private readonly timer: NodeJS.Timeout;
  private readonly file: string;
  private readonly onLine: (line: string) => void;

  constructor(file: string, onLine: (line: string) => void, everyMs = 100) {
    this.file = file;
    this.onLine = onLine;
    this.offset = sizeOf(file);
    this.timer = setInterval(() => this.poll(), everyMs);
    this.timer.unref();
  }

  /** Reads what was appended since the last poll. */
  poll(): void {
    const size = sizeOf(this.file);
    if (size < this.offset) this.offset = 0; // truncated: start over
    if (size === this.offset) return;
    const fd = openSync(this.file, "r");
    try {
      const buffer = Buffer.alloc(size - this.offset);
      const read = readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset += read;
      const lines = (this.partial + buffer.subarray(0, read).toString("utf8")).split("\n");
      this.partial = lines.pop() ?? "";
      for (const line of lines) if (line !== "") this.onLine(line);
    } finally {
      closeSync(fd);
    }
  }

  /** A last read, then no more. */
  stop(): void {
    clearInterval(this.timer);
    this.poll();
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
