/**
 * What the long-running generation commands (extend, capo) share: reading and checking every input
 * record before the first request, stopping cleanly on Ctrl+C, a pool of concurrent workers, and
 * writing results in input order although they finish in any order.
 */
import { setMaxListeners } from 'node:events';
import { readRecords, type InputRecord } from './commands/ask';
import type { CliIO } from './io';

/**
 * Every record of `file`, each passed to `check` (which throws on a record the command cannot use):
 * a bad line stops the run before any request is made. On an error it is written to stderr and the
 * exit status 2 is returned instead.
 */
export async function readAllRecords(
  command: string,
  file: string,
  io: CliIO,
  check: (r: InputRecord) => void,
): Promise<InputRecord[] | number> {
  const records: InputRecord[] = [];
  try {
    for await (const r of readRecords(file)) {
      check(r);
      records.push(r);
    }
  } catch (e) {
    io.stderr.write(`parrot ${command}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  return records;
}

/**
 * A signal aborted by Ctrl+C (SIGINT), with a note on stderr that finished records are kept;
 * `dispose()` removes the handler.
 */
export function interruptible(command: string, io: CliIO): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  const onSig = (): void => {
    io.stderr.write(`\nparrot ${command}: stopping — finished records are kept; run again with --resume\n`);
    ac.abort();
  };
  process.once('SIGINT', onSig);
  return { signal: ac.signal, dispose: () => process.removeListener('SIGINT', onSig) };
}

/**
 * Runs `work` on the items in order with `concurrency` workers; once `signal` is aborted, no
 * further item is started.
 */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const queue = items.slice();
  const worker = async (): Promise<void> => {
    for (let it = queue.shift(); it !== undefined && !signal.aborted; it = queue.shift()) await work(it);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
