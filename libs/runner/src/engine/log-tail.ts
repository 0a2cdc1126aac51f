/** The last N lines of a process's output, kept in memory for error messages. */
export class LogTail {
  private readonly lines: string[] = [];
  private partial = '';
  constructor(private readonly max = 200) {}

  /** Add raw output; calls onLine for each completed line. */
  push(text: string, onLine?: (line: string) => void): void {
    const parts = (this.partial + text).split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    if (this.partial.length > 64 * 1024) {
      parts.push(this.partial);
      this.partial = '';
    }
    for (const line of parts) {
      this.lines.push(line);
      if (this.lines.length > this.max) this.lines.shift();
      onLine?.(line);
    }
  }

  /** Last n lines (the unterminated one included). */
  tail(n = 40): string[] {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.slice(-n);
  }
}
