/** Review decisions on the records (and turns) of a dataset, kept beside it in a sidecar file. */

/** What a reviewer decided. `unreviewed` clears an earlier decision (the sidecar only grows). */
export type ReviewStatus = 'unreviewed' | 'accepted' | 'rejected' | 'needs-work';

export const REVIEW_STATUSES: readonly ReviewStatus[] = ['unreviewed', 'accepted', 'rejected', 'needs-work'];

export function isReviewStatus(v: unknown): v is ReviewStatus {
  return typeof v === 'string' && (REVIEW_STATUSES as readonly string[]).includes(v);
}

/** One line of the sidecar: one decision on a record (or one turn of it). */
export interface Decision {
  /** Stable record key (`id:<id>` or `h:<content hash>`, see key.ts). */
  key: string;
  /** 0-based index of the turn (dialogue `turns`) the decision is about; absent: the whole record. */
  turn?: number;
  status: ReviewStatus;
  note?: string;
  reviewer: string;
  /** ISO 8601 time of the decision (UTC). */
  time: string;
  /** Content hash of the record (or the turn) as the reviewer saw it. */
  hash: string;
  /**
   * Time of the decision in effect on the same key when this one was made (absent: none). A later
   * decision that did not see another reviewer's decision is a conflict (state.ts).
   */
  after?: string;
  /**
   * The key the decision was carried over from: a record without an id edited in the editor gets a
   * new content key, and its decisions follow it (still marked changed since review by `hash`).
   */
  from?: string;
}

/** Where a generated record or turn came from (CaPO pair meta, a generated turn's provenance). */
export interface Provenance {
  strategy?: string;
  model?: string;
}
