/**
 * The review of one open dataset: its sidecar's decisions merged (core/review), the key, hash and
 * provenance of every record (one scan, kept up to date with edits), decisions appended as they are
 * made, and the sidecar watched so that another window's or a `git pull`'s decisions show at once.
 * The dataset is never written for a review, unless `parrot.review.writeToRecord` asks for it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { detectStyle, serializeLike } from '../../core/formats';
import { isBlankLine } from '../../core/stats';
import {
  appendDecisions,
  readSidecar,
  readSideProvenance,
  recordIdentity,
  reviewerName,
  ReviewState,
  sidecarPath,
  emptyCounts,
  type Decision,
  type Provenance,
  type RecordIdentity,
  type ReviewStatus,
  type SidecarProblem,
} from '../../core/review';
import type { DialogueDocument, DocumentChange } from '../editor/dialogueDocument';
import type { Query } from '../../protocol';
import type { ReviewMark, StatusCounts } from '../../reviewProtocol';
import { getLog } from '../log';
import { Disposable } from '../util/disposable';

export const REVIEW_SETTING = {
  reviewer: 'parrot.review.reviewer',
  writeToRecord: 'parrot.review.writeToRecord',
} as const;

const CHUNK = 2000;

const reviews = new WeakMap<DialogueDocument, DocumentReview>();

export class DocumentReview extends Disposable {
  /** The review of `doc` (one per open document, disposed with it). */
  static of(doc: DialogueDocument): DocumentReview {
    let r = reviews.get(doc);
    if (!r) {
      r = new DocumentReview(doc);
      reviews.set(doc, r);
      const created = r;
      doc.onDidDispose(() => created.dispose());
    }
    return r;
  }

  readonly sidecar: string;
  state = new ReviewState();
  problems: SidecarProblem[] = [];
  /** Key and hash of each line (filled by the scan, which runs once the file has a decision). */
  private keys: string[] = [];
  private hashes: string[] = [];
  /** Per line: index into `provenances` of a generated record's provenance, or -1. */
  private provenanceOf: number[] = [];
  private readonly provenances: Provenance[] = [];
  private readonly provenanceIds = new Map<string, number>();
  /** Per line: the provenance from the side file (`<file>.provenance.jsonl`), when it lines up. */
  private sideOf: (Provenance | undefined)[] = [];
  private scanned = false;
  /** Keys of lines read lately (rows, the shown record), for edits before a scan has run. */
  private readonly recent = new Map<number, string>();
  private scanRun = 0;
  private rescanTimer: ReturnType<typeof setTimeout> | undefined;
  private reviewer: Promise<string> | undefined;
  /** Appends in order, one at a time. */
  private writing: Promise<unknown> = Promise.resolve();
  readonly loaded: Promise<void>;

  private readonly _onDidChange = this._register(new vscode.EventEmitter<{ lines?: number[] }>());
  /** Decisions or records changed: `lines` (undefined: any line). */
  readonly onDidChange = this._onDidChange.event;

  private constructor(readonly document: DialogueDocument) {
    super();
    this.sidecar = sidecarPath(document.uri.fsPath);
    this.loaded = this.reload();
    const watcher = this._register(
      vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(vscode.Uri.file(path.dirname(this.sidecar)), path.basename(this.sidecar)),
      ),
    );
    const changed = (): void => void this.reload().catch((e: unknown) => this.logError(e));
    this._register(watcher.onDidChange(changed));
    this._register(watcher.onDidCreate(changed));
    this._register(watcher.onDidDelete(changed));
    this._register(document.onDidChangeContent((c) => this.onContentChange(c)));
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(REVIEW_SETTING.reviewer)) this.reviewer = undefined;
      }),
    );
    void this.loaded.then(() => this.scanIfReviewed());
  }

  /** A dataset without decisions needs no scan: every record is unreviewed. */
  private scanIfReviewed(): void {
    if (!this.scanned && this.state.keys().size > 0) void this.scan().catch((e: unknown) => this.logError(e));
  }

  private logError(e: unknown): void {
    getLog().error(`Review of ${this.document.fileName}: ${e instanceof Error ? e.message : String(e)}`);
  }

  /** Reads the sidecar again (it may have changed on disk). */
  async reload(): Promise<void> {
    // Only a file on disk has a folder to keep its sidecar in.
    if (this.document.uri.scheme !== 'file') return;
    const parsed = await readSidecar(this.sidecar);
    this.state = new ReviewState(parsed.decisions);
    this.problems = parsed.problems;
    for (const p of parsed.problems)
      getLog().warn(`${path.basename(this.sidecar)}:${p.line}: ${p.message} (line skipped)`);
    this._onDidChange.fire({});
    this.scanIfReviewed();
  }

  get isScanning(): boolean {
    return !this.scanned;
  }

  /** Computes the key of every record; runs again after structural edits and reloads. */
  private async scan(): Promise<void> {
    const run = ++this.scanRun;
    const store = this.document.store;
    await store.indexed;
    const keys: string[] = [];
    const hashes: string[] = [];
    const provenance: number[] = [];
    // openai-preference pairs keep their provenance in a side file, matched to records by position.
    const sideFile =
      this.document.uri.scheme === 'file' ? await readSideProvenance(this.document.uri.fsPath) : undefined;
    const side: (Provenance | undefined)[] = [];
    let records = 0;
    for (let start = 0; start < store.lineCount; start += CHUNK) {
      if (run !== this.scanRun || this.isDisposed) return;
      const texts = await this.document.enqueue(() => store.readLines(start, CHUNK));
      for (const t of texts) {
        const id = recordIdentity(t);
        keys.push(id.key);
        hashes.push(id.hash);
        provenance.push(this.provenanceId(id.provenance));
        side.push(isBlankLine(t) ? undefined : sideFile?.entries[records++]);
      }
      await new Promise((r) => setImmediate(r));
    }
    if (run !== this.scanRun) return;
    this.sideOf = [];
    if (sideFile && sideFile.entries.length === records) {
      this.sideOf = side;
      side.forEach((p, i) => {
        if (p && provenance[i] === -1) provenance[i] = this.provenanceId(p);
      });
    } else if (sideFile)
      getLog().warn(
        `${path.basename(sideFile.path)}: ${sideFile.entries.length} line(s) for ${records} record(s): not matched to the records`,
      );
    this.keys = keys;
    this.provenanceOf = provenance;
    this.hashes = hashes;
    this.scanned = true;
    this._onDidChange.fire({});
  }

  private onContentChange(c: DocumentChange): void {
    if (c.reloaded || c.structural) {
      this.scanned = false;
      this.recent.clear();
      clearTimeout(this.rescanTimer);
      this.rescanTimer = setTimeout(() => this.scanIfReviewed(), 200);
      return;
    }
    void this.updateLines(c.lines).catch((e: unknown) => this.logError(e));
  }

  /**
   * Lines edited in place: their keys are computed again; a record without an id gets a new
   * content key, and its decisions are carried over to it (appended with `from`).
   */
  private async updateLines(lines: readonly number[]): Promise<void> {
    const carried: Decision[] = [];
    for (const line of lines) {
      if (line >= this.document.lineCount) continue;
      const text = await this.document.store.readLine(line);
      const id = recordIdentity(text);
      const old = this.scanned ? this.keys[line] : this.recent.get(line);
      this.recent.set(line, id.key);
      if (this.scanned && line < this.keys.length) {
        this.keys[line] = id.key;
        this.hashes[line] = id.hash;
        this.provenanceOf[line] = this.provenanceId(id.provenance ?? this.sideOf[line]);
      }
      if (old === undefined || old === id.key || !old.startsWith('h:')) continue;
      const slots: (number | undefined)[] = [undefined, ...this.state.turnsOf(old)];
      for (const turn of slots) {
        const d = this.state.latest(old, turn);
        if (!d || d.status === 'unreviewed' || this.state.latest(id.key, turn)) continue;
        carried.push({ ...d, key: id.key, from: old });
      }
    }
    if (carried.length) await this.append(carried);
    this._onDidChange.fire({ lines: [...lines] });
  }

  private append(decisions: Decision[]): Promise<void> {
    const next = this.writing.then(async () => {
      await appendDecisions(this.sidecar, decisions);
      for (const d of decisions) this.state.add(d);
    });
    this.writing = next.catch(() => undefined);
    return next;
  }

  /** Records by status (from the scan). */
  private provenanceId(p: Provenance | undefined): number {
    if (!p) return -1;
    const k = `${p.strategy ?? ''}\u0000${p.model ?? ''}`;
    let i = this.provenanceIds.get(k);
    if (i === undefined) {
      i = this.provenances.push(p) - 1;
      this.provenanceIds.set(k, i);
    }
    return i;
  }

  progress(): {
    total: number;
    byStatus: StatusCounts;
    scanning: boolean;
    byStrategy: Record<string, StatusCounts>;
    byModel: Record<string, StatusCounts>;
  } {
    const byStrategy: Record<string, StatusCounts> = {};
    const byModel: Record<string, StatusCounts> = {};
    const byStatus: StatusCounts = { unreviewed: 0, accepted: 0, rejected: 0, 'needs-work': 0 };
    const total = this.scanned ? this.keys.length : this.document.lineCount;
    if (!this.scanned) {
      // No decision yet: nothing to count (and no scan of the file).
      const scanning = this.state.keys().size > 0;
      return { total, byStatus: { ...byStatus, unreviewed: total }, scanning, byStrategy, byModel };
    }
    for (let i = 0; i < this.keys.length; i++) {
      const d = this.state.latest(this.keys[i] ?? '');
      const status = d ? d.status : 'unreviewed';
      byStatus[status]++;
      const p = this.provenances[this.provenanceOf[i] ?? -1];
      if (p?.strategy) (byStrategy[p.strategy] ??= emptyCounts())[status]++;
      if (p?.model) (byModel[p.model] ??= emptyCounts())[status]++;
    }
    return { total, byStatus, scanning: false, byStrategy, byModel };
  }

  private remember(line: number, id: RecordIdentity): RecordIdentity {
    if (this.recent.size >= 10_000) this.recent.clear();
    this.recent.set(line, id.key);
    return id;
  }

  async identityAt(line: number): Promise<RecordIdentity> {
    return this.remember(line, recordIdentity(await this.document.store.readLine(line)));
  }

  /** The mark of a row, from its text. */
  markOf(line: number, text: string): ReviewMark {
    const id = this.remember(line, recordIdentity(text));
    const e = this.state.effective(id);
    const mark: ReviewMark = { line, status: e.status };
    if (e.changed) mark.changed = true;
    if (e.conflicts.length) mark.conflict = true;
    const turns = this.state.turnsOf(id.key).length;
    if (turns) mark.turns = turns;
    if (id.provenance || id.generatedTurns.size) mark.generated = true;
    return mark;
  }

  private name(): Promise<string> {
    const configured = vscode.workspace.getConfiguration().get<string>(REVIEW_SETTING.reviewer, '');
    const cwd =
      vscode.workspace.getWorkspaceFolder(this.document.uri)?.uri.fsPath ??
      path.dirname(this.document.uri.fsPath);
    this.reviewer ??= reviewerName(configured, cwd);
    return this.reviewer;
  }

  /**
   * Records a decision on record `line` (or one of its turns). `note` undefined keeps the note of
   * the decision in effect. Appended to the sidecar before this resolves.
   */
  async decide(line: number, status: ReviewStatus, turn?: number, note?: string): Promise<Decision> {
    await this.loaded;
    if (this.document.uri.scheme !== 'file')
      throw new Error(
        vscode.l10n.t('Reviews are kept beside a file on disk: save the dataset to a file first.'),
      );
    const text = await this.document.enqueue(() => this.document.store.readLine(line));
    const id = recordIdentity(text);
    if (turn !== undefined && turn >= id.turnHashes.length)
      throw new Error(vscode.l10n.t('Record {0} has no turn {1}.', line + 1, turn + 1));
    const prev = this.state.latest(id.key, turn);
    const d: Decision = {
      key: id.key,
      status,
      reviewer: await this.name(),
      time: new Date().toISOString(),
      hash: turn === undefined ? id.hash : (id.turnHashes[turn] ?? ''),
    };
    if (turn !== undefined) d.turn = turn;
    const keptNote = note ?? prev?.note;
    if (keptNote) d.note = keptNote;
    if (prev) d.after = prev.time;
    await this.append([d]);
    this.remember(line, id);
    this.scanIfReviewed();
    if (
      turn === undefined &&
      vscode.workspace.getConfiguration().get<boolean>(REVIEW_SETTING.writeToRecord, false)
    )
      await this.writeToRecord(line, text, d);
    this._onDidChange.fire({ lines: [line] });
    return d;
  }

  /** `parrot.review.writeToRecord`: the decision also goes into the record's `review` field (one undoable edit). */
  private async writeToRecord(line: number, text: string, d: Decision): Promise<void> {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return; // a malformed line is left as it is
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    const review: Record<string, unknown> = { status: d.status, reviewer: d.reviewer, time: d.time };
    if (d.note) review.note = d.note;
    const record = value as Record<string, unknown>;
    if (d.status === 'unreviewed') delete record.review;
    else record.review = review;
    const after = serializeLike(record, detectStyle(text));
    if (after === text) return;
    await this.document.enqueue(async () => {
      if ((await this.document.store.readLine(line)) !== text) return; // changed meanwhile
      this.document.applyEdit(
        vscode.l10n.t('Review: {0}', d.status),
        { kind: 'replace', index: line, texts: [after] },
        { lines: [line], structural: false },
      );
    });
  }

  /** Whether line `line` (with `text`) passes the review part of a query. */
  keepFor(q: Query): ((line: number, text: string) => boolean) | undefined {
    if (q.review === undefined && !q.generated) return undefined;
    return (_line, text) => {
      const id = recordIdentity(text);
      if (q.generated && !id.provenance && !id.generatedTurns.size) return false;
      return q.review === undefined || this.state.effective(id).status === q.review;
    };
  }

  /** The first record after `after` with no decision (generated ones only, if asked). */
  async nextUnreviewed(after: number, generated: boolean): Promise<number | undefined> {
    await this.loaded;
    const store = this.document.store;
    const count = store.lineCount;
    for (let k = 0; k < 2; k++) {
      // From after+1 to the end, then from the start (wrapping around).
      const [from, to] = k === 0 ? [after + 1, count] : [0, Math.min(after + 1, count)];
      for (let start = from; start < to; start += CHUNK) {
        const texts = await this.document.enqueue(() => store.readLines(start, Math.min(CHUNK, to - start)));
        for (const [i, t] of texts.entries()) {
          const id = recordIdentity(t);
          if (generated && !id.provenance && !id.generatedTurns.size) continue;
          if (this.state.effective(id).status === 'unreviewed') return start + i;
        }
      }
    }
    return undefined;
  }

  override dispose(): void {
    clearTimeout(this.rescanTimer);
    this.scanRun++;
    super.dispose();
  }
}
