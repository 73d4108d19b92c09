import * as vscode from 'vscode';
import type { OverviewStrings } from '../../core/overview/charts';

/** The overview's strings, translated here (`{0}`, `{1}` are filled in by the charts). */
export function overviewStrings(): OverviewStrings {
  return {
    title: vscode.l10n.t('Dataset overview'),
    summary: vscode.l10n.t(
      '{0} records ({1} dialogues, {2} preference pairs) in {3} lines; {4} not records, {5} blank',
    ),
    formats: vscode.l10n.t('Records by format'),
    turns: vscode.l10n.t('Turns per record'),
    tokens: vscode.l10n.t('Tokens per record ({0})'),
    roleTokens: vscode.l10n.t('Tokens per record, {0} turns ({1})'),
    problems: vscode.l10n.t('Problems by rule (records)'),
    noProblems: vscode.l10n.t('No problems found by the per-record rules.'),
    exact: vscode.l10n.t('Exact duplicates'),
    userQuestions: vscode.l10n.t('Near-duplicate user questions (similarity ≥ {0})'),
    dialogues: vscode.l10n.t('Near-duplicate dialogues (similarity ≥ {0})'),
    duplicateSummary: vscode.l10n.t('{0} clusters, {1} records, {2} beyond the first of each'),
    noDuplicates: vscode.l10n.t('None.'),
    cluster: vscode.l10n.t('Cluster {0}: {1} records from line {2}'),
    paper: vscode.l10n.t("The Parrot paper's measures"),
    sessions: vscode.l10n.t('Sessions'),
    turnsPerSession: vscode.l10n.t('Turns (user queries) per session'),
    contextDependent: vscode.l10n.t('Context-dependent queries per session (offline detector)'),
    selfRouge: vscode.l10n.t('Self-ROUGE (sample of {0} queries; lower = more diverse)'),
    stats: vscode.l10n.t('p50 {0} · p90 {1} · p99 {2} · max {3} · mean {4}'),
    table: vscode.l10n.t('Table'),
    value: vscode.l10n.t('Value'),
    records: vscode.l10n.t('Records'),
    recordsOf: vscode.l10n.t('{0}: {1} records'),
    clickHint: vscode.l10n.t('Select a bar or a row to show those records in the dialogue editor.'),
    unsaved: vscode.l10n.t('The overview shows the file as saved on disk; unsaved edits are not in it.'),
  };
}
