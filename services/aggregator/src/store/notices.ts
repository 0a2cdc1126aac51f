import type { Aggregate, RunEvent, Sample } from '@kvbench/common';

/** What one commit changed, told to live subscribers (SSE) after the commit. */
export type StoreNotice =
  | { kind: 'sample'; run_id: string; attempt: number; id: number; sample: Sample }
  | { kind: 'lifecycle'; run_id: string; attempt: number; event: Exclude<RunEvent, { type: 'sample' }> }
  /** The attempt's completed event and all the samples it announced are stored. */
  | { kind: 'complete'; run_id: string; attempt: number; aggregate: Aggregate; sample_count: number };
