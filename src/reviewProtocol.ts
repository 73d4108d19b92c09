/**
 * The review messages between the extension host and the dialogue editor webview (see
 * docs/review.md). Shared by both bundles like protocol.ts, which includes these in its unions;
 * every message from the webview is checked here at runtime.
 */
import type { ReviewStatus } from './core/review/types';

export type { ReviewStatus };
export const REVIEW_STATUS_IDS: readonly ReviewStatus[] = [
  'unreviewed',
  'accepted',
  'rejected',
  'needs-work',
];

export const REVIEW_STRING_KEYS = [
  'accept',
  'reject',
  'needsWork',
  'clear',
  'note',
  'notePlaceholder',
  'nextUnreviewed',
  'progressLabel',
  'progressText',
  'scanning',
  'statusFilter',
  'anyStatus',
  'unreviewed',
  'accepted',
  'rejected',
  'needs-work',
  'generatedOnly',
  'byReviewer',
  'changedSinceReview',
  'conflictWith',
  'turnReview',
  'recordReview',
  'reviewBar',
  'keysHint',
  'generated',
  'bySource',
  'notGenerated',
] as const;
export type ReviewStringKey = (typeof REVIEW_STRING_KEYS)[number];
export type ReviewStrings = Record<ReviewStringKey, string>;

export type StatusCounts = Record<ReviewStatus, number>;

/** A row's mark in the list. */
export interface ReviewMark {
  line: number;
  status: ReviewStatus;
  changed?: boolean;
  conflict?: boolean;
  /** Turns of the record with a decision of their own. */
  turns?: number;
  generated?: boolean;
}

export interface ReviewDecisionView {
  status: ReviewStatus;
  note?: string;
  reviewer?: string;
  time?: string;
  changed: boolean;
  conflicts: { reviewer: string; status: ReviewStatus; note?: string }[];
}

export type ReviewHostMessage =
  | { type: 'reviewInit'; strings: ReviewStrings }
  /** Records by status over the whole document (`scanning` while the first count runs). */
  | {
      type: 'reviewProgress';
      total: number;
      byStatus: StatusCounts;
      scanning: boolean;
      /** Generated records (CaPO pairs) by strategy and by the model that wrote them. */
      byStrategy: Record<string, StatusCounts>;
      byModel: Record<string, StatusCounts>;
    }
  | { type: 'reviewMarks'; marks: ReviewMark[] }
  /** The decisions on the record shown (sent after its `record`). */
  | {
      type: 'reviewRecord';
      line: number;
      record: ReviewDecisionView;
      /** Decisions on single turns, by turn index. */
      turns: ({ turn: number } & ReviewDecisionView)[];
      /** Turn indexes with provenance (generated). */
      generated: number[];
      /** The record itself is generated (a CaPO pair). */
      generatedRecord: boolean;
    };

export type ReviewWebviewMessage =
  /**
   * A decision on record `line` (or one of its turns). `note` absent: the slot's note is kept.
   * `generated` ("review only generated turns" is on): a decision on a turn without provenance is refused.
   */
  | {
      type: 'reviewSet';
      line: number;
      turn?: number;
      status: ReviewStatus;
      note?: string;
      generated?: boolean;
    }
  /** Reveal the next record after `after` with no decision (with provenance only, if `generated`). */
  | { type: 'reviewNext'; after: number; generated?: boolean };

export function isReviewStatusId(v: unknown): v is ReviewStatus {
  return typeof v === 'string' && (REVIEW_STATUS_IDS as readonly string[]).includes(v);
}

const MAX_NOTE = 10_000;

function isIndex(v: unknown, min = 0): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
}

/** Checks a review message from the webview; undefined when it is not a valid one. */
export function parseReviewMessage(m: Record<string, unknown>): ReviewWebviewMessage | undefined {
  switch (m.type) {
    case 'reviewSet': {
      if (!isIndex(m.line) || !isReviewStatusId(m.status)) return undefined;
      if (m.turn !== undefined && !isIndex(m.turn)) return undefined;
      if (m.note !== undefined && !(typeof m.note === 'string' && m.note.length <= MAX_NOTE))
        return undefined;
      const out: ReviewWebviewMessage = { type: 'reviewSet', line: m.line, status: m.status };
      if (m.turn !== undefined) out.turn = m.turn;
      if (m.note !== undefined) out.note = m.note;
      if (m.generated !== undefined && typeof m.generated !== 'boolean') return undefined;
      if (m.generated) out.generated = true;
      return out;
    }
    case 'reviewNext': {
      if (!isIndex(m.after, -1) || !(m.generated === undefined || typeof m.generated === 'boolean'))
        return undefined;
      const out: ReviewWebviewMessage = { type: 'reviewNext', after: m.after };
      if (m.generated) out.generated = true;
      return out;
    }
    default:
      return undefined;
  }
}

/** The review part of a query: records by their status, and generated ones only. */
export function parseReviewQuery(
  v: Record<string, unknown>,
): { review?: ReviewStatus; generated?: boolean } | undefined {
  if (v.review !== undefined && !isReviewStatusId(v.review)) return undefined;
  if (v.generated !== undefined && typeof v.generated !== 'boolean') return undefined;
  const out: { review?: ReviewStatus; generated?: boolean } = {};
  if (v.review !== undefined) out.review = v.review;
  if (v.generated) out.generated = true;
  return out;
}
