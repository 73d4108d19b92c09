/**
 * The review state of a dataset, merged from its sidecar's decisions: for each record key (and
 * turn), the latest decision wins (by time; ties broken by reviewer, then status, so every copy of
 * a merged sidecar agrees whatever its line order). A decision that was made without seeing another
 * reviewer's different decision on the same key is a conflict; conflicts are shown, not hidden.
 */
import type { RecordIdentity } from './key';
import type { Decision, ReviewStatus } from './types';

function slot(key: string, turn?: number): string {
  return turn === undefined ? key : `${key}#${turn}`;
}

/** Later first: time, then reviewer, then status. */
function compare(a: Decision, b: Decision): number {
  const ta = Date.parse(a.time);
  const tb = Date.parse(b.time);
  if (ta !== tb) return tb - ta;
  if (a.reviewer !== b.reviewer) return a.reviewer < b.reviewer ? 1 : -1;
  return a.status === b.status ? 0 : a.status < b.status ? 1 : -1;
}

export interface Effective {
  status: ReviewStatus;
  decision?: Decision;
  /** The record (turn) changed since the decision was made (its content hash differs). */
  changed: boolean;
  /** Other reviewers' latest decisions that disagree with this one and that it did not see. */
  conflicts: Decision[];
}

const UNREVIEWED: Effective = { status: 'unreviewed', changed: false, conflicts: [] };

export class ReviewState {
  /** Every decision per slot, latest first. */
  private readonly bySlot = new Map<string, Decision[]>();

  constructor(decisions: Iterable<Decision> = []) {
    for (const d of decisions) this.add(d);
  }

  add(d: Decision): void {
    const k = slot(d.key, d.turn);
    const list = this.bySlot.get(k);
    if (!list) {
      this.bySlot.set(k, [d]);
      return;
    }
    list.push(d);
    list.sort(compare);
  }

  /** The decision in effect for a key (or one of its turns), undefined when there is none. */
  latest(key: string, turn?: number): Decision | undefined {
    return this.bySlot.get(slot(key, turn))?.[0];
  }

  /** Every decision on a key (or turn), latest first. */
  history(key: string, turn?: number): readonly Decision[] {
    return this.bySlot.get(slot(key, turn)) ?? [];
  }

  /** Other reviewers' latest decisions on the slot that disagree with the winner and that it did not see. */
  conflictsOf(key: string, turn?: number): Decision[] {
    const list = this.bySlot.get(slot(key, turn));
    const win = list?.[0];
    if (!list || !win) return [];
    const seen = new Set<string>([win.reviewer]);
    const out: Decision[] = [];
    const saw = win.after === undefined ? -Infinity : Date.parse(win.after);
    for (const d of list.slice(1)) {
      if (seen.has(d.reviewer)) continue;
      seen.add(d.reviewer);
      if (d.status !== win.status && Date.parse(d.time) > saw) out.push(d);
    }
    return out;
  }

  /** The effective state of a record as it is now (`identity`), or of one of its turns. */
  effective(identity: Pick<RecordIdentity, 'key' | 'hash' | 'turnHashes'>, turn?: number): Effective {
    const d = this.latest(identity.key, turn);
    if (!d || d.status === 'unreviewed') {
      const conflicts = d ? this.conflictsOf(identity.key, turn) : [];
      return conflicts.length
        ? { ...UNREVIEWED, decision: d, conflicts }
        : d
          ? { ...UNREVIEWED, decision: d }
          : UNREVIEWED;
    }
    const now = turn === undefined ? identity.hash : identity.turnHashes[turn];
    return {
      status: d.status,
      decision: d,
      changed: now !== d.hash,
      conflicts: this.conflictsOf(identity.key, turn),
    };
  }

  /** Record keys with a decision (whole-record or on a turn). */
  keys(): Set<string> {
    const out = new Set<string>();
    for (const list of this.bySlot.values()) if (list[0]) out.add(list[0].key);
    return out;
  }

  /** Turns of `key` that have a decision. */
  turnsOf(key: string): number[] {
    const out: number[] = [];
    for (const list of this.bySlot.values()) {
      const d = list[0];
      if (d && d.key === key && d.turn !== undefined) out.push(d.turn);
    }
    return out.sort((a, b) => a - b);
  }
}
