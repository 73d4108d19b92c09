/**
 * What the long-running generation commands (extend, capo) share: reading and checking every input
 * record before the first request, stopping cleanly on Ctrl+C, a pool of concurrent workers, and
 * writing results in input order although they finish in any order.
 */
import { setMaxListeners } from 'node:events';
import type { promises as fsp } from 'node:fs';
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

/** Appends lines in input order although results arrive in completion order. */
export class OrderedWriter {
  private readonly pending = new Map<number, string[]>();
  private next = 0;
  constructor(
    private readonly fh: fsp.FileHandle,
    private readonly sidecar?: fsp.FileHandle,
    private readonly sidecarPending = new Map<number, string[]>(),
  ) {}

  /** Slot `seq` (0-based, dense) is finished with these lines (possibly none). */
  async put(seq: number, lines: string[], sideLines: string[] = []): Promise<void> {
    this.pending.set(seq, lines);
    this.sidecarPending.set(seq, sideLines);
    let out = '';
    let side = '';
    while (this.pending.has(this.next)) {
      for (const l of this.pending.get(this.next) ?? []) out += `${l}\n`;
      for (const l of this.sidecarPending.get(this.next) ?? []) side += `${l}\n`;
      this.pending.delete(this.next);
      this.sidecarPending.delete(this.next);
      this.next++;
    }
    if (side && this.sidecar) await this.sidecar.write(side);
    if (out) await this.fh.write(out);
  }

  /** Slots written so far (the first unfinished one after a cancel). */
  get written(): number {
    return this.next;
  }
}
