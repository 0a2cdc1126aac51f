/**
 * Incremental Server-Sent Events parser. Fed raw socket chunks as they arrive,
 * it hands back each event's `data` as soon as the blank line that ends the event
 * has been received — never waiting for (or buffering) the rest of the response,
 * so a chunk's arrival time is the time the event became readable.
 *
 * Follows the WHATWG event-stream rules that matter for OpenAI-style streams:
 * lines end in LF, CRLF or CR; `data:` lines of one event are joined with "\n";
 * one optional space after the colon is dropped; comment lines (":") are ignored.
 */
export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  /** Unterminated tail of the last chunk (at most one partial line). */
  private pending = '';
  /** data lines of the event being assembled. */
  private data: string[] = [];
  private sawCr = false;

  /** Feed one chunk; returns the data payloads of the events it completed (often 0 or 1). */
  push(chunk: Uint8Array): string[] {
    return this.consume(this.decoder.decode(chunk, { stream: true }));
  }

  /** End of stream: flush a trailing event that lacked its final blank line. */
  end(): string[] {
    const out = this.consume(this.decoder.decode() + '\n');
    if (this.data.length > 0) {
      out.push(this.data.join('\n'));
      this.data = [];
    }
    return out;
  }

  private consume(text: string): string[] {
    const out: string[] = [];
    let s = this.pending + text;
    this.pending = '';
    let start = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 10 /* \n */) {
        if (this.sawCr && i === start) {
          // second half of a CRLF split across chunks (or right after a CR line end)
          this.sawCr = false;
          start = i + 1;
          continue;
        }
        this.sawCr = false;
        this.line(s.slice(start, i), out);
        start = i + 1;
      } else if (c === 13 /* \r */) {
        this.line(s.slice(start, i), out);
        start = i + 1;
        if (s.charCodeAt(i + 1) === 10) {
          i++;
          start = i + 1;
          this.sawCr = false;
        } else {
          this.sawCr = true;
        }
      } else if (this.sawCr) {
        this.sawCr = false;
      }
    }
    this.pending = s.slice(start);
    s = '';
    return out;
  }

  private line(line: string, out: string[]): void {
    if (line.length === 0) {
      if (this.data.length > 0) {
        out.push(this.data.join('\n'));
        this.data = [];
      }
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) return; // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'data') return; // event:, id:, retry: carry nothing kvbench needs
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    this.data.push(value);
  }
}
