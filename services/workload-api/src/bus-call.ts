import { BusError, KvbenchError } from '@kvbench/common';

/**
 * Run one NATS operation; a failure of the bus itself (timeout, connection closed, JetStream API
 * error) becomes a BusError, answered 503, so clients can tell "try again" from "fix your request".
 */
export async function busCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof KvbenchError) throw err;
    throw new BusError(`${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}
