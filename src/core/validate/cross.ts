/**
 * Cross-record rules, fed with each record's facts in line order: duplicate ids, duplicate
 * dialogues, content type drift, mixed formats. Memory: one map entry per distinct id / dialogue
 * key (numbers, no strings: 12-byte slots), at most `keep` remembered records per format, the
 * records whose dialogue signature matched an earlier one until they are confirmed, and, with
 * signatures, a record's line and offset every 64 KiB and the lines where the first records'
 * format changes (what finds a first record again).
 */
import { lastAtOrBefore } from '../ascending';
import { Column, NumberMap } from './column';
import type { Severities, RecordFacts, CrossTarget } from './record';
import { KIND_LIST, KIND_STRING } from './record';
import { FORMAT_IDS } from './schemas';
import type { Diagnostic, RuleCode, Severity } from './types';

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

/**
 * A record to read again: its caller's handle, line and format index. With `skip`, `ref` is the
 * handle of an earlier record and the record starts `skip` lines after it (the caller walks them).
 */
export interface RecordRef {
  ref: number;
  line: number;
  format: number;
  skip?: number;
}

/** Bytes between the records whose line and offset are kept (with signatures). */
const CHECKPOINT_BYTES = 64 * 1024;

/**
 * The full dialogue hashes of records read again by their refs, in the order given (NaN for one
 * that can no longer be read as a record of its format).
 */
export type DialogueHashes = (records: RecordRef[]) => Promise<Float64Array>;

export class CrossState {
  private readonly ids = new NumberMap();
  /** Dialogue key -> line of the first record with it. */
  private readonly dialogues = new NumberMap();
  /**
   * Full hashes of first records known when they came (by line; only read with signatures, where
   * few are known: most records are checked as bytes, whose full hash waits for confirmDialogues).
   */
  private readonly firstFull = new Map<number, number>();
  /** With signatures: the line and handle of the first record fed after every CHECKPOINT_BYTES. */
  private readonly pointLine = new Column((n) => new Uint32Array(n));
  private readonly pointRef = new Column((n) => new Float64Array(n));
  private nextPoint = 0;
  /** With signatures: the first records' formats, as the lines where they change and the format. */
  private readonly formatFrom: number[] = [];
  private readonly formatIs: number[] = [];
  /** Records whose signature matched that of an earlier record (line `candFirst`), in line order. */
  private readonly candLine = new Column((n) => new Uint32Array(n));
  private readonly candRef = new Column((n) => new Float64Array(n));
  private readonly candFormat = new Column((n) => new Int8Array(n));
  private readonly candFirst = new Column((n) => new Uint32Array(n));
  /** Full dialogue hash, NaN until known. */
  private readonly candFull = new Column((n) => new Float64Array(n));
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
    /** What messages call a record's position (`line N` of a JSONL file, `row N` of a Parquet file). */
    private readonly unit: 'line' | 'row' = 'line',
  ) {}

  /** Counts a diagnostic of rule `code`; its severity, undefined when the rule is off. */
  private count(code: RuleCode): Severity | undefined {
    const s = this.sev.get(code);
    if (s === 'off') return undefined;
    this.total++;
    if (s === 'error') this.errors++;
    return s;
  }

  /** A diagnostic, counted; undefined when its rule is off. */
  private make(
    code: RuleCode,
    f: Marked,
    line: number,
    ref: number,
    target: CrossTarget,
    message: string,
  ): PendingDiagnostic | undefined {
    const s = this.count(code);
    if (s === undefined) return undefined;
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
    if (this.signatures && ref >= this.nextPoint) {
      this.pointLine.push(line);
      this.pointRef.push(ref);
      this.nextPoint = ref + CHECKPOINT_BYTES;
    }
    if (!Number.isNaN(f.idHash) && this.sev.on('duplicate/id')) {
      const first = this.ids.addIfAbsent(f.idHash, line);
      if (first >= 0)
        this.emit(
          'duplicate/id',
          f,
          line,
          ref,
          'id',
          `duplicate id: already used on ${this.unit} ${first + 1}`,
        );
    }
    if (!Number.isNaN(f.dialogueKey)) {
      const first = this.dialogues.addIfAbsent(f.dialogueKey, line);
      if (first < 0) {
        if (this.signatures) {
          if (!Number.isNaN(f.dialogueFull)) this.firstFull.set(line, f.dialogueFull);
          if (this.formatIs[this.formatIs.length - 1] !== f.format) {
            this.formatFrom.push(line);
            this.formatIs.push(f.format);
          }
        }
      } else if (this.signatures) {
        this.candLine.push(line);
        this.candRef.push(ref);
        this.candFormat.push(f.format);
        this.candFirst.push(first);
        this.candFull.push(f.dialogueFull);
      } else this.push(this.duplicate(f, line, ref, first));
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
        const where = otherLine === line ? 'elsewhere in this record' : `on ${this.unit} ${otherLine + 1}`;
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

  /**
   * How to read the first record on `line` again: from the last kept record at or before it, that
   * many lines on, in the format of the first records there.
   */
  private firstRecord(line: number): RecordRef {
    const lines = this.pointLine.done();
    const at = lastAtOrBefore(lines, line);
    const f = lastAtOrBefore(this.formatFrom, line);
    return { ref: this.pointRef.get(at), line, format: this.formatIs[f], skip: line - lines[at] };
  }

  private duplicate(f: Marked, line: number, ref: number, firstLine: number): PendingDiagnostic | undefined {
    const message = `duplicate dialogue: same content as ${this.unit} ${firstLine + 1}`;
    return this.make('duplicate/dialogue', f, line, ref, 'record', message);
  }

  /**
   * Confirms the records held by signature: each is a duplicate of the first earlier record with
   * the same signature and the same full hash. Full hashes not known yet are asked of `hashes` in
   * one batch. Call once after the last record, before finish.
   */
  async confirmDialogues(hashes: DialogueHashes): Promise<void> {
    const n = this.candLine.length;
    if (n === 0) return;
    const line = this.candLine.done();
    const ref = this.candRef.done();
    const format = this.candFormat.done();
    const first = this.candFirst.done();
    const full = this.candFull.done();
    for (const c of [this.candLine, this.candRef, this.candFormat, this.candFirst, this.candFull]) c.clear();
    // Candidates grouped by their first record, each group in line order.
    const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => first[a] - first[b] || a - b);
    // Full hashes not known yet: of first records (negative: -(line + 1)) and candidates.
    const firstFull = new Map<number, number>();
    const unknown: number[] = [];
    const refs: RecordRef[] = [];
    for (let k = 0; k < n; k++) {
      const i = order[k];
      const head = first[i];
      if (!firstFull.has(head)) {
        const h = this.firstFull.get(head) ?? NaN;
        firstFull.set(head, h);
        if (Number.isNaN(h)) {
          unknown.push(-(head + 1));
          refs.push(this.firstRecord(head));
        }
      }
      if (Number.isNaN(full[i])) {
        unknown.push(i);
        refs.push({ ref: ref[i], line: line[i], format: format[i] });
      }
    }
    if (refs.length > 0) {
      const got = await hashes(refs);
      unknown.forEach((u, k) => (u >= 0 ? (full[u] = got[k]) : firstFull.set(-u - 1, got[k])));
    }
    // A candidate duplicates the first earlier record of its group with the same full hash.
    const dupOf = new Int32Array(n).fill(-1);
    let seen = new Map<number, number>(); // full hash -> first line with it, in the current group
    for (let k = 0; k < n; k++) {
      const i = order[k];
      if (k === 0 || first[order[k - 1]] !== first[i]) {
        seen = new Map();
        const h = firstFull.get(first[i]) ?? NaN;
        if (!Number.isNaN(h)) seen.set(h, first[i]);
      }
      if (Number.isNaN(full[i])) continue;
      const earlier = seen.get(full[i]);
      if (earlier === undefined) seen.set(full[i], line[i]);
      else dupOf[i] = earlier;
    }
    // Candidates are in line order: the first `keep` duplicates are kept, all are counted. Their
    // spans are found when their lines are read again (validateFile re-reads every kept one).
    const late: PendingDiagnostic[] = [];
    for (let i = 0; i < n; i++) {
      if (dupOf[i] < 0) continue;
      if (late.length >= this.keep) {
        this.count('duplicate/dialogue');
        continue;
      }
      const p = this.duplicate({ format: format[i], recStart: 0, recEnd: 0 }, line[i], ref[i], dupOf[i]);
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
          message: `record in format ${FORMAT_IDS[f]}, but most records of the file (${this.formatCount[major]}, first on ${this.unit} ${majorFirst + 1}) are ${FORMAT_IDS[major]}`,
          target: 'record',
          format: f,
          ref: r.ref,
        });
      }
    }
    this.merge(pending.sort((a, b) => a.line - b.line));
  }
}
