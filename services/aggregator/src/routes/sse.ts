import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

/** A Server-Sent Events writer over a raw response, honouring backpressure. */
export class SseWriter {
  private closed = false;

  constructor(private readonly res: ServerResponse) {
    res.on('close', () => {
      this.closed = true;
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Write one event; resolves once the socket can take more. */
  async send(event: string, data: unknown, id?: number): Promise<void> {
    if (this.closed) return;
    const text = `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    if (!this.res.write(text)) await Promise.race([once(this.res, 'drain'), once(this.res, 'close')]);
  }

  comment(text: string): void {
    if (!this.closed) this.res.write(`: ${text}\n\n`);
  }

  end(): void {
    if (!this.closed) this.res.end();
    this.closed = true;
  }
}
