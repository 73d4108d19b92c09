import * as vscode from 'vscode';
import type { ReviewStrings } from '../../reviewProtocol';

/** The review strings the webview shows (`{0}`, `{1}` are filled in by the webview). */
export function reviewStrings(): ReviewStrings {
  return {
    accept: vscode.l10n.t('Accept (1)'),
    reject: vscode.l10n.t('Reject (2)'),
    needsWork: vscode.l10n.t('Needs work (3)'),
    clear: vscode.l10n.t('Clear (0)'),
    note: vscode.l10n.t('Note (n)'),
    notePlaceholder: vscode.l10n.t('Note for {0} — Enter to save, Escape to cancel'),
    nextUnreviewed: vscode.l10n.t('Next unreviewed (u)'),
    progressLabel: vscode.l10n.t('Review progress'),
    progressText: vscode.l10n.t('{0}/{1} reviewed · {2} accepted · {3} rejected · {4} needs work'),
    scanning: vscode.l10n.t('counting reviews…'),
    statusFilter: vscode.l10n.t('Review status'),
    anyStatus: vscode.l10n.t('Any review status'),
    unreviewed: vscode.l10n.t('unreviewed'),
    accepted: vscode.l10n.t('accepted'),
    rejected: vscode.l10n.t('rejected'),
    'needs-work': vscode.l10n.t('needs work'),
    generatedOnly: vscode.l10n.t('Generated only'),
    byReviewer: vscode.l10n.t('{0} by {1}, {2}'),
    changedSinceReview: vscode.l10n.t('changed since review'),
    conflictWith: vscode.l10n.t('conflict: {0} said {1}'),
    turnReview: vscode.l10n.t('turn {0}'),
    recordReview: vscode.l10n.t('record'),
    reviewBar: vscode.l10n.t('Review'),
    keysHint: vscode.l10n.t(
      '1 accept · 2 reject · 3 needs work · 0 clear · n note · u next unreviewed (on a focused turn: that turn)',
    ),
    generated: vscode.l10n.t('generated'),
    bySource: vscode.l10n.t('{0}: {1}% accepted ({2}/{3})'),
    notGenerated: vscode.l10n.t(
      'Turn {0} is not generated: with "Generated only" on, the keys act on generated turns.',
    ),
  };
}
