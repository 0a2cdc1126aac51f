/**
 * One NATS user per system label for `kvbench up` (issue 25). deploy/nats/users.conf has one
 * agent role for every label: it may bind any `agent-<label>` consumer, so an agent of one system
 * could take (and read the run key of) another system's jobs. `kvbench up` knows its labels, so
 * its bus gets instead one user per label, `kvbench-agent-<label>`, made from that same agent block
 * with its job-consumer permissions narrowed to its own consumer: create (with the label's filter
 * subject, which nats-server checks against the consumer's config), info, pull, ack. Everything
 * else about the role stays as users.conf says, so the two cannot drift apart.
 */

/** The agent role's job-consumer permissions in users.conf, each with its per-label form. */
const JOB_CONSUMER_LINES: readonly [string, (label: string) => string][] = [
  ['"$JS.API.CONSUMER.CREATE.KVBENCH_JOBS.>"', (l) => `"$JS.API.CONSUMER.CREATE.KVBENCH_JOBS.agent-${l}.kvbench.jobs.${l}"`],
  ['"$JS.API.CONSUMER.INFO.KVBENCH_JOBS.>"', (l) => `"$JS.API.CONSUMER.INFO.KVBENCH_JOBS.agent-${l}"`],
  ['"$JS.API.CONSUMER.MSG.NEXT.KVBENCH_JOBS.>"', (l) => `"$JS.API.CONSUMER.MSG.NEXT.KVBENCH_JOBS.agent-${l}"`],
  ['"$JS.ACK.KVBENCH_JOBS.>"', (l) => `"$JS.ACK.KVBENCH_JOBS.agent-${l}.>"`],
];

/** The NATS user name of a system's agents on `kvbench up`'s bus. */
export const agentUserName = (label: string) => `kvbench-agent-${label}`;

/** users.conf's `kvbench-agent` user block: its lines, and where they are. */
function agentBlock(usersConf: string): { lines: string[]; start: number; end: number } {
  const lines = usersConf.split('\n');
  const userLine = lines.findIndex((l) => l.trim() === 'user: kvbench-agent');
  if (userLine < 0) throw new Error('users.conf has no "user: kvbench-agent" block');
  const start = userLine - 1;
  if (lines[start]?.trim() !== '{') throw new Error('users.conf: the kvbench-agent user does not open its own { block');
  let depth = 0;
  for (let i = start; i < lines.length; i++) {
    depth += (lines[i]!.match(/{/g) ?? []).length - (lines[i]!.match(/}/g) ?? []).length;
    if (depth === 0) return { lines: lines.slice(start, i + 1), start, end: i };
  }
  throw new Error('users.conf: the kvbench-agent block never closes');
}

/**
 * users.conf with its shared agent user replaced by one user per label (passwords inline: the
 * file is written per start, mode 0600, beside the store). Throws when users.conf no longer has
 * the lines this narrows, rather than handing out the wide role.
 */
export function perLabelUsersConf(usersConf: string, passwords: ReadonlyMap<string, string>): string {
  const block = agentBlock(usersConf);
  const users = [...passwords].map(([label, password]) => {
    let text = block.lines.join('\n');
    text = text.replace(/user: kvbench-agent$/m, `user: ${agentUserName(label)}`);
    text = text.replace(/password: \$KVBENCH_NATS_AGENT_PASSWORD$/m, `password: "${password}"`);
    for (const [wide, narrow] of JOB_CONSUMER_LINES) {
      if (!text.includes(wide)) throw new Error(`users.conf: the agent role no longer has ${wide}`);
      text = text.replace(wide, narrow(label));
    }
    if (text.includes('kvbench-agent\n') || text.includes('$KVBENCH_NATS_AGENT_PASSWORD')) throw new Error('users.conf: the agent block changed shape');
    return text;
  });
  const lines = usersConf.split('\n');
  return [...lines.slice(0, block.start), users.join('\n'), ...lines.slice(block.end + 1)].join('\n');
}
