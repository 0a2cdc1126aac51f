#!/usr/bin/env node
import { KvbenchError, ValidationError } from '@kvbench/common';
import type { Command } from './command.js';
import { commands } from './commands/index.js';

function findCommand(argv: string[]): { cmd: Command; rest: string[] } | undefined {
  let best: { cmd: Command; rest: string[]; len: number } | undefined;
  for (const cmd of commands) {
    for (const words of cmd.names) {
      if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.len)) {
        best = { cmd, rest: argv.slice(words.length), len: words.length };
      }
    }
  }
  return best;
}

function help(): string {
  const lines = ['kvbench: PCIe vs NVLink-C2C KV-cache offload benchmark', '', 'commands:'];
  for (const c of commands) lines.push(`  ${c.names[0]!.join(' ').padEnd(22)} ${c.summary}`);
  lines.push('', 'Run `kvbench <command> --help` for its flags.');
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(help());
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    console.error(`kvbench: unknown command '${argv.join(' ')}'\n\n${help()}`);
    return 2;
  }
  try {
    return await found.cmd.run(found.rest);
  } catch (err) {
    if (err instanceof ValidationError) {
      console.error(`kvbench: ${err.message}`);
      return 2;
    }
    if (err instanceof KvbenchError) {
      console.error(`kvbench: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
