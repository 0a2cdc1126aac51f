/**
 * A run's events in order, handed to `emit` (the host agent's bus EventPublisher, or a test's
 * collector): a queue, not a publisher. emit() is async (NATS publish); events are
 * chained so they reach the bus in the order they happened without the replay
 * ever waiting on the bus.
 */
import { runEvent, type Job, type RunEvent, type RunEventBody, type RunEventType } from '@kvbench/common';

export class RunEventQueue {
  private chain: Promise<void> = Promise.resolve();
  private error: unknown = null;

  constructor(
    private readonly job: Job,
    private readonly attempt: number,
    private readonly emit: (e: RunEvent) => Promise<void>,
  ) {}

  /** Queue an event; failures are kept and raised by flush(). */
  publish<T extends RunEventType>(type: T, body: RunEventBody<T>): void {
    const event: RunEvent = runEvent(type, { run_id: this.job.run_id, attempt: this.attempt, system_label: this.job.system_label }, body);
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
