/**
 * What the long-running generation commands (extend, capo) share: reading and checking every input
 * record before the first request, stopping cleanly on Ctrl+C, a pool of concurrent workers, and
 * writing results in input order although they finish in any order.
 */
import { setMaxListeners } from 'node:events';
import { RunOutput, type OpenOptions as RunOpenOptions, type SlotResult } from '../core/parrot';
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
  source: AsyncIterable<InputRecord> = readRecords(file),
): Promise<InputRecord[] | number> {
  const records: InputRecord[] = [];
  try {
    for await (const r of source) {
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

/**
 * Opens a resumable run's output for `total` input records (`unit` names them in messages, `redo`
 * says what a resume does with the short ones) and says where a resume starts. Prints why and
 * returns undefined when the output cannot be opened, or holds more records than the input has.
 */
export async function openRun(
  o: RunOpenOptions,
  total: number,
  say: (m: string) => void,
  words: { unit: string; input: string; redo: string },
): Promise<RunOutput | undefined> {
  let output: RunOutput;
  try {
    output = await RunOutput.open(o);
  } catch (e) {
    say(e instanceof Error ? e.message : String(e));
    return undefined;
  }
  if (output.records > total) {
    await output.close();
    say(
      `${o.out} holds ${output.records} ${words.unit} but ${words.input} has only ${total} — is it the right file?`,
    );
    return undefined;
  }
  const short = output.failed.length;
  if (output.records)
    say(
      `resuming after ${output.records} ${words.unit} already in ${o.out}${short ? `; ${words.redo.replace('{n}', String(short))}` : ''}`,
    );
  return output;
}

/**
 * Drives a resumable run over `total` slots (input records) through its output: first the slots an
 * earlier run left short, made again and written in place (`work` gets the lines each kept), then
 * every slot after the finished ones, `concurrency` at a time, written in order. A slot whose work
 * returns `undefined` (cancelled) is not written, and a resume redoes it. The output is closed at
 * the end, as complete when every slot was written.
 */
export async function runSlots(
  output: RunOutput,
  total: number,
  o: {
    concurrency: number;
    signal: AbortSignal;
    work: (slot: number, kept?: readonly string[]) => Promise<SlotResult | undefined>;
  },
): Promise<void> {
  let skipped = false;
  const run = async (slot: number, kept?: readonly string[]): Promise<SlotResult | undefined> => {
    const r = await o.work(slot, kept);
    if (!r) skipped = true;
    return r;
  };
  try {
    const retry = [...output.failed];
    if (retry.length) {
      const kept = await output.failedLines();
      const redone = new Map<number, SlotResult>();
      await runPool(retry, o.concurrency, o.signal, async (f) => {
        const res = await run(f.slot, kept.get(f.slot));
        if (res) redone.set(f.slot, res);
      });
      await output.repair(redone);
    }
    const todo = Array.from({ length: Math.max(0, total - output.records) }, (_, i) => output.records + i);
    await runPool(todo, o.concurrency, o.signal, async (slot) => {
      const res = await run(slot);
      if (res) await output.put(slot, res);
    });
  } finally {
    await output.close(output.records === total && !skipped && !o.signal.aborted);
  }
}
