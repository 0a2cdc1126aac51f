export { parseFlags, usage, type FlagSpecs, type FlagSpec } from './args.js';
export type { Command } from './command.js';
