/**
 * Publishing a run's events in order. emit() is async (NATS publish); events are
 * chained so they reach the bus in the order they happened without the replay
 * ever waiting on the bus.
 */
import type { Job, RunEvent } from '@kvbench/common';

type Body<T extends RunEvent['type']> = Omit<Extract<RunEvent, { type: T }>, 'schema' | 'version' | 'run_id' | 'attempt' | 'system_label' | 'at' | 'type'>;

export class EventPublisher {
  private chain: Promise<void> = Promise.resolve();
  private error: unknown = null;

  constructor(
    private readonly job: Job,
    private readonly attempt: number,
    private readonly emit: (e: RunEvent) => Promise<void>,
  ) {}

  private envelope() {
    return {
      schema: 'kvbench.event' as const,
      version: 1 as const,
      run_id: this.job.run_id,
      attempt: this.attempt,
      system_label: this.job.system_label,
      at: new Date().toISOString(),
    };
  }

  /** Queue an event; failures are kept and raised by flush(). */
  publish<T extends RunEvent['type']>(type: T, body: Body<T>): void {
    const event = { ...this.envelope(), ...body, type } as unknown as RunEvent;
    this.chain = this.chain.then(async () => {
      if (this.error) return;
      try {
        await this.emit(event);
      } catch (err) {
        this.error = err;
      }
    });
  }

  /** Wait for every queued event; throws the first publish error. */
  async flush(): Promise<void> {
    await this.chain;
    if (this.error) {
      const err = this.error;
      this.error = null;
      throw err;
    }
  }
}
