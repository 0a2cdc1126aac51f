/** A CLI subcommand: `run` gets the argv after the command words and returns the exit code. */
export interface Command {
  /** Words that select it, e.g. ['workload', 'generate']. */
  names: string[][];
  summary: string;
  run(argv: string[]): Promise<number>;
}
