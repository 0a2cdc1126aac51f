import type { Command } from '../command.js';
import { workloadCommands } from './workload.js';
import { reportCommand } from './report.js';
import { probeCommand } from './probe.js';

/** Every CLI subcommand. Each lives in its own file beside this one. */
export const commands: Command[] = [...workloadCommands, reportCommand, probeCommand];
