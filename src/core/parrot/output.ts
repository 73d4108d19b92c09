/**
 * The output of a resumable generation run (CLI `extend` / `capo`, the extension's CaPO set): one
 * slot per input record, written strictly in input order although results finish in any order, an
 * optional provenance side file written with it, and a progress file that says exactly how much of
 * both files is finished.
 *
 * Why it is safe to kill at any moment:
 * - writes never overlap: each flush waits for the one before;
 * - the progress file (`<out>.progress.json`) is replaced atomically (temporary file, fsync, rename)
 *   and only after the output bytes it counts were written and fsynced; it holds the byte length of
 *   the output and of the side file at that point, so a resume cuts both back to exactly those
 *   lengths and redoes the slots after them — no duplicate, no gap, side lines stay aligned;
 * - slots that finished short (a request failed) are listed with their line range; a resume
 *   retries them and writes the new lines into copies that replace the files by rename, with the
 *   intent recorded in the progress file first so that a kill in between is rolled forward.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';

export interface FailedSlot {
  /** 0-based input record. */
  slot: number;
  /** 0-based first output line of the slot, and how many lines it wrote. */
  line: number;
  lines: number;
  error: string;
  /** What the caller needs to retry only what failed (e.g. the failed requests), kept as given. */
  detail?: unknown;
}

interface Extent {
  records: number;
  lines: number;
  bytes: number;
  sideBytes: number;
  failed: FailedSlot[];
}

export interface RunProgress extends Extent {
  version: 2;
  /** What the run reads (as the caller names it); a resume with another input is refused. */
  input: string;
  /** Settings a resume must keep (e.g. the output format). */
  keep: Record<string, string>;
  /** A repair whose copies are complete and are being moved in place. */
  commit?: Extent;
}

export interface SlotResult {
  lines: readonly string[];
  /** Side-file lines (provenance), written in the same flush. */
  side?: readonly string[];
  /** Set when the slot finished short: a resume retries it. */
  error?: string;
  /** With `error`: kept in the progress file with the failed slot (see `FailedSlot.detail`). */
  detail?: unknown;
}

export interface OpenOptions {
  out: string;
  /** Side file written with the output (one line per output line). */
  sidecar?: string;
  input: string;
  keep?: Record<string, string>;
  /** Continue the run recorded in the progress file. */
  resume: boolean;
  /** Without `resume`: replace an existing, non-empty output (else that is an error). */
  overwrite?: boolean;
  /** Minimum time between progress saves while writing (default 200 ms; always saved on close). */
  progressEveryMs?: number;
}

export function progressPath(out: string): string {
  return `${out}.progress.json`;
}

function repairPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.repair.tmp`);
}

/** Writes JSON atomically: a temporary file beside it, fsync, rename over. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.writeFile(JSON.stringify(value));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, file);
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await fsp.stat(file)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function isExtent(x: unknown): x is Extent {
  const e = x as Extent;
  return (
    !!e &&
    typeof e === 'object' &&
    [e.records, e.lines, e.bytes, e.sideBytes].every((n) => Number.isInteger(n) && n >= 0) &&
    Array.isArray(e.failed) &&
    e.failed.every(
      (f) =>
        !!f &&
        [f.slot, f.line, f.lines].every((n) => Number.isInteger(n) && n >= 0) &&
        typeof f.error === 'string',
    )
  );
}

/** The progress of the run writing `out`: undefined when there is none; throws when unreadable. */
export function readRunProgress(out: string): Promise<RunProgress | undefined> {
  return readProgress(progressPath(out));
}

async function readProgress(file: string): Promise<RunProgress | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let p: RunProgress;
  try {
    p = JSON.parse(text) as RunProgress;
  } catch {
    throw new Error(`${file} is unreadable (not JSON) — not resuming; remove it and OUT to start over`);
  }
  if (
    !p ||
    p.version !== 2 ||
    typeof p.input !== 'string' ||
    !isExtent(p) ||
    (p.commit !== undefined && !isExtent(p.commit))
  )
    throw new Error(`${file} is not a progress file this version can resume from`);
  p.keep ??= {};
  return p;
}

/** The lines of a file as raw buffers, each with its newline (the last may lack one). */
async function* rawLines(file: string): AsyncGenerator<Buffer> {
  let rest: Buffer | undefined;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    let buf = rest ? Buffer.concat([rest, chunk]) : chunk;
    let i = buf.indexOf(10);
    while (i >= 0) {
      yield buf.subarray(0, i + 1);
      buf = buf.subarray(i + 1);
      i = buf.indexOf(10);
    }
    rest = buf.length ? Buffer.from(buf) : undefined;
  }
  if (rest) yield rest;
}

export class RunOutput {
  private fh: fsp.FileHandle | undefined;
  private side: fsp.FileHandle | undefined;
  private readonly pending = new Map<number, SlotResult>();
  private chain: Promise<void> = Promise.resolve();
  private lastSave = 0;
  private dirty = false;

  private constructor(
    private readonly o: OpenOptions,
    private readonly state: RunProgress,
  ) {}

  /**
   * Opens the output. With `resume`, the progress file must be readable and match the input: an
   * unreadable one is an error, never "start from 0". Both files are cut back to the lengths it
   * records.
   */
  static async open(o: OpenOptions): Promise<RunOutput> {
    const pfile = progressPath(o.out);
    const keep = o.keep ?? {};
    let state: RunProgress = {
      version: 2,
      input: o.input,
      keep,
      records: 0,
      lines: 0,
      bytes: 0,
      sideBytes: 0,
      failed: [],
    };
    const outSize = await sizeOf(o.out);
    if (o.resume) {
      const p = await readProgress(pfile);
      if (p) {
        if (p.input !== o.input)
          throw new Error(`${o.out} was written from ${p.input}, not ${o.input} — not resuming`);
        for (const [k, v] of Object.entries(keep))
          if (p.keep[k] !== undefined && p.keep[k] !== v)
            throw new Error(`${o.out} was written with ${k} ${p.keep[k]}; resume it with that ${k}`);
        if (p.commit) {
          // A repair was interrupted after its copies were complete: finish moving them in place.
          for (const f of [o.sidecar, o.out])
            if (f && (await sizeOf(repairPath(f))) !== undefined) await fsp.rename(repairPath(f), f);
          Object.assign(p, p.commit);
          delete p.commit;
          await writeJsonAtomic(pfile, p);
        }
        state = p;
      } else if ((outSize ?? 0) > 0) {
        throw new Error(
          `cannot resume: ${pfile} is missing (the run finished, or ${o.out} was not written by a resumable run)`,
        );
      }
      await RunOutput.cut(o.out, state.bytes);
      if (o.sidecar) await RunOutput.cut(o.sidecar, state.sideBytes);
    } else if ((outSize ?? 0) > 0 && !o.overwrite) {
      throw new Error(`${o.out} exists — resume it, or choose another output`);
    } else {
      await fsp.mkdir(path.dirname(path.resolve(o.out)), { recursive: true });
      await fsp.writeFile(o.out, '');
      if (o.sidecar) await fsp.writeFile(o.sidecar, '');
      await writeJsonAtomic(pfile, state);
    }
    const r = new RunOutput(o, state);
    await r.openHandles();
    return r;
  }

  private static async cut(file: string, bytes: number): Promise<void> {
    const size = (await sizeOf(file)) ?? 0;
    if (size < bytes)
      throw new Error(
        `${file} is shorter (${size} bytes) than its progress file records (${bytes}): it was changed outside this run — not resuming`,
      );
    if (size > bytes) await fsp.truncate(file, bytes);
  }

  private async openHandles(): Promise<void> {
    this.fh = await fsp.open(this.o.out, 'a');
    if (this.o.sidecar) this.side = await fsp.open(this.o.sidecar, 'a');
  }

  /** Input records whose slots are finished (written, possibly short). */
  get records(): number {
    return this.state.records;
  }

  /** Slots written short, in order (retried by a resume). */
  get failed(): readonly FailedSlot[] {
    return this.state.failed;
  }

  /** Output lines written. */
  get lines(): number {
    return this.state.lines;
  }

  /**
   * Slot `slot` (0-based input record; dense from `records`) is finished. Returns once every slot up
   * to the last contiguous finished one is written; writes never overlap.
   */
  put(slot: number, r: SlotResult): Promise<void> {
    if (slot < this.state.records || this.pending.has(slot)) throw new Error(`slot ${slot} written twice`);
    this.pending.set(slot, r);
    this.chain = this.chain.then(() => this.drain());
    return this.chain;
  }

  private async drain(): Promise<void> {
    let out = '';
    let side = '';
    const from = this.state.records;
    while (this.pending.has(this.state.records)) {
      const slot = this.state.records;
      const r = this.pending.get(slot) as SlotResult;
      this.pending.delete(slot);
      if (r.error !== undefined)
        this.state.failed.push({
          slot,
          line: this.state.lines,
          lines: r.lines.length,
          error: r.error,
          detail: r.detail,
        });
      for (const l of r.lines) out += `${l}\n`;
      for (const l of r.side ?? []) side += `${l}\n`;
      this.state.lines += r.lines.length;
      this.state.records++;
    }
    if (this.state.records === from && !this.dirty) return;
    if (side && this.side) {
      await this.side.write(side);
      this.state.sideBytes += Buffer.byteLength(side);
    }
    if (out) {
      await this.fh?.write(out);
      this.state.bytes += Buffer.byteLength(out);
    }
    this.dirty = true;
    if (Date.now() - this.lastSave >= (this.o.progressEveryMs ?? 200)) await this.save();
  }

  private async save(): Promise<void> {
    await this.side?.sync();
    await this.fh?.sync();
    await writeJsonAtomic(progressPath(this.o.out), this.state);
    this.lastSave = Date.now();
    this.dirty = false;
  }

  /**
   * The output lines of the failed slots (to continue a short record from what it kept), by slot;
   * with `side`, their side-file lines.
   */
  async failedLines(side = false): Promise<Map<number, string[]>> {
    const file = side ? this.o.sidecar : this.o.out;
    const want = new Map<number, FailedSlot>();
    for (const f of this.state.failed) for (let i = 0; i < f.lines; i++) want.set(f.line + i, f);
    const got = new Map<number, string[]>();
    for (const f of this.state.failed) got.set(f.slot, []);
    if (!want.size) return got;
    let n = 0;
    if (!file) return got;
    for await (const l of rawLines(file)) {
      const f = want.get(n++);
      if (f) got.get(f.slot)?.push(l.toString('utf8').replace(/\r?\n$/, ''));
    }
    return got;
  }

  /**
   * Replaces the lines of retried failed slots (those in `results`) by their new results. Output and
   * side file are rewritten into copies, then moved in place; a kill at any point leaves either the
   * old state or one that the next `open` completes.
   */
  async repair(results: ReadonlyMap<number, SlotResult>): Promise<void> {
    if (!results.size) return;
    await this.chain;
    await this.save();
    await this.fh?.close();
    await this.side?.close();
    this.fh = this.side = undefined;
    const events = [...this.state.failed].sort((x, y) => x.line - y.line || x.slot - y.slot);
    const main = await copyRepaired(this.o.out, events, results, (r) => r.lines);
    const next: Extent = {
      records: this.state.records,
      lines: main.lines,
      bytes: main.bytes,
      sideBytes: 0,
      failed: main.failed,
    };
    if (this.o.sidecar)
      next.sideBytes = (await copyRepaired(this.o.sidecar, events, results, (r) => r.side ?? [])).bytes;
    this.state.commit = next;
    await writeJsonAtomic(progressPath(this.o.out), this.state);
    if (this.o.sidecar) await fsp.rename(repairPath(this.o.sidecar), this.o.sidecar);
    await fsp.rename(repairPath(this.o.out), this.o.out);
    Object.assign(this.state, next);
    delete this.state.commit;
    await writeJsonAtomic(progressPath(this.o.out), this.state);
    await this.openHandles();
  }

  /**
   * Writes what is finished and the progress. With `complete` (every slot written) and no slot
   * short, the progress file is removed: the run is over.
   */
  async close(complete = false): Promise<void> {
    try {
      await this.chain;
      await this.save();
    } finally {
      await this.fh?.close();
      await this.side?.close();
      this.fh = this.side = undefined;
    }
    if (complete && this.state.failed.length === 0) await fsp.rm(progressPath(this.o.out), { force: true });
  }
}

/**
 * Copies `file` into its repair copy, replacing the lines of each failed slot that has a new result
 * (a slot that wrote no line gets its new lines at its position). Returns the copy's size, lines and
 * the slots still short, with their new positions.
 */
async function copyRepaired(
  file: string,
  events: readonly FailedSlot[],
  results: ReadonlyMap<number, SlotResult>,
  linesOf: (r: SlotResult) => readonly string[],
): Promise<{ bytes: number; lines: number; failed: FailedSlot[] }> {
  const w = await fsp.open(repairPath(file), 'w');
  let bytes = 0;
  let outLine = 0;
  let skip = 0;
  let ei = 0;
  const failed: FailedSlot[] = [];
  const write = async (b: Buffer): Promise<void> => {
    await w.write(b);
    bytes += b.length;
  };
  const at = async (n: number): Promise<void> => {
    for (; ei < events.length && events[ei].line === n; ei++) {
      const f = events[ei];
      const r = results.get(f.slot);
      if (!r) {
        failed.push({ ...f, line: outLine });
        continue;
      }
      if (r.error !== undefined)
        failed.push({ slot: f.slot, line: outLine, lines: r.lines.length, error: r.error, detail: r.detail });
      for (const l of linesOf(r)) await write(Buffer.from(`${l}\n`));
      outLine += r.lines.length;
      skip += f.lines;
    }
  };
  try {
    let n = 0;
    for await (const l of rawLines(file)) {
      await at(n);
      n++;
      if (skip > 0) {
        skip--;
        continue;
      }
      await write(l);
      outLine++;
    }
    await at(n);
    await w.sync();
  } finally {
    await w.close();
  }
  return { bytes, lines: outLine, failed };
}
