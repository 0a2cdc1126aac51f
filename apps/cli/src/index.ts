export { parseFlags, usage, type FlagSpecs, type FlagSpec } from './args.js';
export type { Command } from './command.js';
export { checkResultsFile, mergeRunIntoResultsFile, readResultsFile, saveRun, sideFileName, type SavedRun } from './results-file.js';
