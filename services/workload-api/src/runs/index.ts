/** Runs: building a job, submitting it, agent presence, cancelling, reading status. */
export type { RunsContext } from './context.js';
export { buildJob, configModuleFor, newRunId } from './job.js';
export { submitRun } from './submit.js';
export { liveAgents } from './presence.js';
export { cancelRun, type CancelOutcome } from './cancel.js';
export { getRunStatus, listRuns, type RunFilter } from './status.js';
