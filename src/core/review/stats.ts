/**
 * Review statistics of a dataset: records by status, what changed since it was reviewed, conflicts,
 * decisions that match no record, and decisions on generated data by strategy and by model.
 */
import type { RecordIdentity } from './key';
import type { SideProvenance } from './sideProvenance';
import type { ReviewState } from './state';
import { REVIEW_STATUSES, type ReviewStatus } from './types';

export type StatusCounts = Record<ReviewStatus, number>;

export function emptyCounts(): StatusCounts {
  return { unreviewed: 0, accepted: 0, rejected: 0, 'needs-work': 0 };
}

export interface ReviewStats {
  records: number;
  byStatus: StatusCounts;
  /** Records reviewed (any status but unreviewed). */
  reviewed: number;
  /** Reviewed records whose text changed since the decision. */
  changed: number;
  /** Records (or turns) with conflicting decisions. */
  conflicts: number;
  /** Turn decisions in effect, by status. */
  turns: StatusCounts;
  /** Generated records and turns (those with provenance), by strategy and by model. */
  byStrategy: Record<string, StatusCounts>;
  byModel: Record<string, StatusCounts>;
  /** Record keys in the sidecar that no record of the file has now. */
  orphaned: number;
  /**
   * A provenance side file (`<file>.provenance.jsonl`) whose line count differs from the file's
   * record count: its lines cannot be matched to records by position, so they were not counted.
   */
  sideFileMismatch?: { path: string; lines: number; records: number };
}

function bump(table: Record<string, StatusCounts>, name: string, status: ReviewStatus): void {
  (table[name] ??= emptyCounts())[status]++;
}

/** Collects review stats record by record (the file is streamed by the caller). */
export class ReviewStatsCollector {
  private readonly s: ReviewStats = {
    records: 0,
    byStatus: emptyCounts(),
    reviewed: 0,
    changed: 0,
    conflicts: 0,
    turns: emptyCounts(),
    byStrategy: {},
    byModel: {},
    orphaned: 0,
  };
  private readonly seen = new Set<string>();
  /** Counts from the provenance side file, kept apart until its lines are known to match the records. */
  private readonly side = {
    byStrategy: {} as Record<string, StatusCounts>,
    byModel: {} as Record<string, StatusCounts>,
  };

  constructor(
    private readonly state: ReviewState,
    private readonly sideFile?: SideProvenance,
  ) {}

  /** Adds the next record (records in file order: the provenance side file is matched by position). */
  add(id: RecordIdentity): void {
    const sideEntry = this.sideFile?.entries[this.s.records];
    const s = this.s;
    s.records++;
    this.seen.add(id.key);
    const e = this.state.effective(id);
    s.byStatus[e.status]++;
    if (e.status !== 'unreviewed') s.reviewed++;
    if (e.changed) s.changed++;
    if (e.conflicts.length) s.conflicts++;
    if (id.provenance) {
      if (id.provenance.strategy) bump(s.byStrategy, id.provenance.strategy, e.status);
      if (id.provenance.model) bump(s.byModel, id.provenance.model, e.status);
    } else if (sideEntry) {
      if (sideEntry.strategy) bump(this.side.byStrategy, sideEntry.strategy, e.status);
      if (sideEntry.model) bump(this.side.byModel, sideEntry.model, e.status);
    }
    for (const turn of this.state.turnsOf(id.key)) {
      const t = this.state.effective(id, turn);
      if (t.status !== 'unreviewed') s.turns[t.status]++;
      if (t.conflicts.length) s.conflicts++;
    }
    // A generated turn counts with its own decision, else with the record's.
    for (const [turn, p] of id.generatedTurns) {
      const t = this.state.effective(id, turn);
      const status = t.status !== 'unreviewed' ? t.status : e.status;
      if (p.strategy) bump(s.byStrategy, p.strategy, status);
      if (p.model) bump(s.byModel, p.model, status);
    }
  }

  result(): ReviewStats {
    let orphaned = 0;
    for (const k of this.state.keys()) if (!this.seen.has(k)) orphaned++;
    const out: ReviewStats = { ...this.s, orphaned };
    const side = this.sideFile;
    if (side && side.entries.length !== this.s.records)
      out.sideFileMismatch = { path: side.path, lines: side.entries.length, records: this.s.records };
    else if (side) {
      out.byStrategy = merged(this.s.byStrategy, this.side.byStrategy);
      out.byModel = merged(this.s.byModel, this.side.byModel);
    }
    return out;
  }
}

function merged(
  a: Record<string, StatusCounts>,
  b: Record<string, StatusCounts>,
): Record<string, StatusCounts> {
  const out: Record<string, StatusCounts> = {};
  for (const t of [a, b])
    for (const [name, c] of Object.entries(t)) {
      const o = (out[name] ??= emptyCounts());
      for (const k of REVIEW_STATUSES) o[k] += c[k];
    }
  return out;
}

function pct(n: number, of: number): string {
  return of === 0 ? '0%' : `${Math.round((n / of) * 100)}%`;
}

/** "misread: 62% accepted (31/50), 20% rejected, 18% needs work" */
export function describeCounts(name: string, c: StatusCounts): string {
  const total = REVIEW_STATUSES.reduce((n, k) => n + c[k], 0);
  const parts = [
    `${pct(c.accepted, total)} accepted (${c.accepted}/${total})`,
    `${pct(c.rejected, total)} rejected`,
    `${pct(c['needs-work'], total)} needs work`,
  ];
  if (c.unreviewed) parts.push(`${pct(c.unreviewed, total)} unreviewed`);
  return `${name}: ${parts.join(', ')}`;
}

/** Which records an export keeps. */
export type ExportSelection = 'accepted' | 'not-rejected';

export function selects(selection: ExportSelection, status: ReviewStatus): boolean {
  return selection === 'accepted' ? status === 'accepted' : status !== 'rejected';
}
