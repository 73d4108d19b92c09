/**
 * Cross-record rules, fed with each record's facts in line order: duplicate ids, duplicate
 * dialogues, content type drift, mixed formats. Memory: one map entry per distinct id / dialogue
 * key (numbers, no strings), at most `keep` remembered records per format, and the records whose
 * dialogue signature matched an earlier one until they are confirmed.
 */
import { Column, NumberMap } from './column';
import type { Severities, RecordFacts, CrossTarget } from './record';
import { KIND_LIST, KIND_STRING } from './record';
import { FORMAT_IDS } from './schemas';
import type { Diagnostic, RuleCode } from './types';

/** A cross-record diagnostic whose exact span is found later by re-reading its line. */
export interface PendingDiagnostic extends Diagnostic {
  target: CrossTarget;
  /** Format index of the record (for re-reading it). */
  format: number;
  /** Caller's handle for the line (e.g. its byte offset in the file). */
  ref: number;
}

interface Remembered {
  line: number;
  recStart: number;
  recEnd: number;
  ref: number;
}

/** Where a diagnostic goes and how its record is found again. */
type Marked = Pick<RecordFacts, 'format' | 'recStart' | 'recEnd'>;

/** A record to read again: its caller's handle, line and format index. */
export interface RecordRef {
  ref: number;
  line: number;
  format: number;
}

/** A record with a dialogue signature that another record has too. */
interface Member extends RecordRef {
  /** Full dialogue hash, NaN until known. */
  full: number;
}

/** A record whose dialogue signature matched that of an earlier record. */
interface Candidate extends Member, Remembered {
  /** Slot of the first record with that signature. */
  first: number;
}

/**
 * The full dialogue hashes of records read again by their refs, in the order given (NaN for one
 * that can no longer be read as a record of its format).
 */
export type DialogueHashes = (records: RecordRef[]) => Promise<Float64Array>;

export class CrossState {
  private readonly ids = new NumberMap();
  /** Dialogue key -> slot of the first record with it. */
  private readonly dialogues = new NumberMap();
  private readonly firstLine = new Column((n) => new Uint32Array(n));
  private readonly firstRef = new Column((n) => new Float64Array(n));
  private readonly firstFormat = new Column((n) => new Int8Array(n));
  private readonly firstFull = new Column((n) => new Float64Array(n));
  private readonly candidates: Candidate[] = [];
  private readonly kindFirst = new Map<number, number>();
  private driftReported = false;
  private readonly formatCount: number[] = FORMAT_IDS.map(() => 0);
  private readonly formatFirst: Remembered[][] = FORMAT_IDS.map(() => []);
  private formatOrder: number[] = [];

  /** Diagnostics produced (at most `keep`), and how many were produced in all. */
  readonly out: PendingDiagnostic[] = [];
  total = 0;
  errors = 0;

  /**
   * With `signatures`, the dialogue keys of the facts are signatures: records whose signature
   * matches an earlier one are held until confirmDialogues compares their full hashes.
   */
  constructor(
    private readonly sev: Severities,
    private readonly keep: number,
    private readonly mixedFormats: boolean,
    private readonly signatures = false,
  ) {}

  /** A diagnostic, counted; undefined when its rule is off. */
  private make(
    code: RuleCode,
    f: Marked,
    line: number,
    ref: number,
    target: CrossTarget,
    message: string,
  ): PendingDiagnostic | undefined {
    const s = this.sev.get(code);
    if (s === 'off') return undefined;
    this.total++;
    if (s === 'error') this.errors++;
    return {
      line,
      startCol: f.recStart,
      endCol: f.recEnd,
      severity: s,
      code,
      message,
      target,
      format: f.format,
      ref,
    };
  }

  /** Keeps a diagnostic of the record being added (records come in line order). */
  private push(p: PendingDiagnostic | undefined): void {
    if (p && this.out.length < this.keep) this.out.push(p);
  }

  private emit(...args: Parameters<CrossState['make']>): void {
    this.push(this.make(...args));
  }

  /**
   * Adds diagnostics found after the records were fed, in line order among themselves: `out` keeps
   * the first `keep` of all by line.
   */
  private merge(late: PendingDiagnostic[]): void {
    if (late.length === 0) return;
    const all = this.out.concat(late.slice(0, this.keep)).sort((a, b) => a.line - b.line);
    this.out.length = 0;
    for (const p of all.slice(0, this.keep)) this.out.push(p);
  }

  add(line: number, f: RecordFacts, ref: number): void {
    if (!Number.isNaN(f.idHash) && this.sev.on('duplicate/id')) {
      const first = this.ids.get(f.idHash);
      if (first === undefined) this.ids.set(f.idHash, line);
      else this.emit('duplicate/id', f, line, ref, 'id', `duplicate id: already used on line ${first + 1}`);
    }
    if (!Number.isNaN(f.dialogueKey)) {
      const first = this.dialogues.get(f.dialogueKey);
      if (first === undefined) {
        this.dialogues.set(f.dialogueKey, this.firstLine.length);
        this.firstLine.push(line);
        this.firstRef.push(ref);
        this.firstFormat.push(f.format);
        this.firstFull.push(f.dialogueFull);
      } else if (this.signatures) {
        const { format, recStart, recEnd, dialogueFull: full } = f;
        this.candidates.push({ line, ref, format, recStart, recEnd, first, full });
      } else this.push(this.duplicate(f, line, ref, this.firstLine.get(first)));
    }
    if (f.kinds !== 0 && !this.driftReported) {
      for (const k of [KIND_STRING, KIND_LIST]) {
        if (f.kinds & k && !this.kindFirst.has(k)) this.kindFirst.set(k, line);
      }
      if (this.kindFirst.size === 2) {
        this.driftReported = true;
        const strLine = this.kindFirst.get(KIND_STRING) ?? line;
        const listLine = this.kindFirst.get(KIND_LIST) ?? line;
        // The deviating kind is the one seen last (on this line).
        const here =
          strLine === line && listLine === line ? KIND_LIST : strLine === line ? KIND_STRING : KIND_LIST;
        const otherLine = here === KIND_STRING ? listLine : strLine;
        const hereWord = here === KIND_STRING ? 'a string' : 'a list of parts';
        const otherWord = here === KIND_STRING ? 'a list of parts' : 'a string';
        const where = otherLine === line ? 'elsewhere in this record' : `on line ${otherLine + 1}`;
        this.emit(
          'content/type-drift',
          f,
          line,
          ref,
          here === KIND_STRING ? 'content-string' : 'content-list',
          `"content" is ${hereWord} here but ${otherWord} ${where}; Hugging Face datasets cannot load a column that mixes both`,
        );
      }
    }
    if (this.mixedFormats && f.format >= 0) {
      if (this.formatCount[f.format]++ === 0) this.formatOrder.push(f.format);
      const list = this.formatFirst[f.format];
      if (list.length < this.keep) list.push({ line, recStart: f.recStart, recEnd: f.recEnd, ref });
    }
  }

  private duplicate(f: Marked, line: number, ref: number, firstLine: number): PendingDiagnostic | undefined {
    const message = `duplicate dialogue: same content as line ${firstLine + 1}`;
    return this.make('duplicate/dialogue', f, line, ref, 'record', message);
  }

  /**
   * Confirms the records held by signature: each is a duplicate of the first earlier record with
   * the same signature and the same full hash. Full hashes not known yet are asked of `hashes` in
   * one batch. Call once after the last record, before finish.
   */
  async confirmDialogues(hashes: DialogueHashes): Promise<void> {
    if (this.candidates.length === 0) return;
    const groups = new Map<number, Candidate[]>();
    for (const c of this.candidates) {
      const g = groups.get(c.first);
      if (g) g.push(c);
      else groups.set(c.first, [c]);
    }
    this.candidates.length = 0;
    // Each group: its first record, then the later ones in line order.
    const firsts = new Map<number, Member>();
    for (const slot of groups.keys()) {
      const ref = this.firstRef.get(slot);
      const line = this.firstLine.get(slot);
      firsts.set(slot, { ref, line, format: this.firstFormat.get(slot), full: this.firstFull.get(slot) });
    }
    const unknown = [...firsts.values(), ...[...groups.values()].flat()].filter((m) => Number.isNaN(m.full));
    const got = unknown.length > 0 ? await hashes(unknown) : new Float64Array(0);
    unknown.forEach((m, i) => (m.full = got[i]));
    const found: { c: Candidate; firstLine: number }[] = [];
    for (const [slot, later] of groups) {
      const first = firsts.get(slot) as Member;
      const seen = new Map<number, number>(); // full hash -> first line with it
      if (!Number.isNaN(first.full)) seen.set(first.full, first.line);
      for (const c of later) {
        if (Number.isNaN(c.full)) continue;
        const firstLine = seen.get(c.full);
        if (firstLine === undefined) seen.set(c.full, c.line);
        else found.push({ c, firstLine });
      }
    }
    found.sort((a, b) => a.c.line - b.c.line);
    const late: PendingDiagnostic[] = [];
    for (const { c, firstLine } of found) {
      const p = this.duplicate(c, c.line, c.ref, firstLine);
      if (p) late.push(p);
    }
    this.merge(late);
  }

  /** Runs the whole-file rules (mixed formats); call once after the last record. */
  finish(): void {
    if (!this.mixedFormats || this.formatOrder.length < 2) return;
    const s = this.sev.get('format/mixed');
    if (s === 'off') return;
    let major = this.formatOrder[0];
    for (const f of this.formatOrder) if (this.formatCount[f] > this.formatCount[major]) major = f;
    const majorFirst = this.formatFirst[major][0]?.line ?? 0;
    const pending: PendingDiagnostic[] = [];
    for (const f of this.formatOrder) {
      if (f === major) continue;
      this.total += this.formatCount[f];
      if (s === 'error') this.errors += this.formatCount[f];
      for (const r of this.formatFirst[f]) {
        pending.push({
          line: r.line,
          startCol: r.recStart,
          endCol: r.recEnd,
          severity: s,
          code: 'format/mixed',
          message: `record in format ${FORMAT_IDS[f]}, but most records of the file (${this.formatCount[major]}, first on line ${majorFirst + 1}) are ${FORMAT_IDS[major]}`,
          target: 'record',
          format: f,
          ref: r.ref,
        });
      }
    }
    this.merge(pending.sort((a, b) => a.line - b.line));
  }
}
