// One CLI run in a child process, timed from node start to exit, with the child's own peak RSS
// (process.resourceUsage at exit, written to its stderr by a preloaded data: module).
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';

export async function timedCliRun(main, cliArgs, out) {
  const report = `process.on('exit', () => process.stderr.write('maxrss_kb=' + process.resourceUsage().maxRSS + '\\n'))`;
  const args = ['--import', `data:text/javascript,${encodeURIComponent(report)}`, main, ...cliArgs, '--out', out];
  const t0 = process.hrtime.bigint();
  const { code, stdout, stderr } = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (code !== 0) throw new Error(`kvbench ${cliArgs.slice(0, 2).join(' ')} exited ${code}: ${stderr}`);
  const rss = /maxrss_kb=(\d+)/.exec(stderr);
  if (!rss) throw new Error(`no maxrss in child's stderr: ${stderr}`);
  return { seconds, rssBytes: Number(rss[1]) * 1024, bytes: (await stat(out)).size, line: stdout.trim() };
}
