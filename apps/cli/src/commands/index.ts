import type { Command } from '../command.js';
import { workloadCommands } from './workload.js';
import { reportCommand } from './report.js';
import { watchCommand } from './watch.js';
import { probeCommand } from './probe.js';
import { benchCommand } from './bench.js';
import { demoCommand } from './demo.js';
import { upCommand } from './up.js';
import { sweepCommands } from './sweep.js';

/** Every CLI subcommand. Each lives in its own file beside this one. */
export const commands: Command[] = [...workloadCommands, benchCommand, reportCommand, watchCommand, probeCommand, demoCommand, upCommand, ...sweepCommands];
