import type { ChildProcess } from 'node:child_process';

/**
 * Resolves with the first match of `pattern` in everything the child wrote to `stream`; rejects as
 * soon as the child exits without writing it. No deadline of its own: how long a start takes on a
 * loaded machine is no test's business, and the test's own timeout catches a child that hangs.
 */
export function untilOutput(child: ChildProcess, pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const source = child[stream];
    if (!source) return reject(new Error(`the child's ${stream} is not piped`));
    const onData = (d: Buffer | string) => {
      text += d.toString();
      const m = pattern.exec(text);
      if (m) {
        cleanup();
        resolve(m);
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`exited (code ${code}, signal ${signal}) before writing ${pattern}; its ${stream}:\n${text.slice(-2000)}`));
    };
    const cleanup = () => {
      source.off('data', onData);
      child.off('exit', onExit);
    };
    source.on('data', onData);
    child.once('exit', onExit);
  });
}
