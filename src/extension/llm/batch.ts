import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  capoEntry,
  createCapoJob,
  createExtendJob,
  extendEntry,
  recordHash,
  sourceRef,
  type CapoRecordState,
  type ExtendRecordState,
  downloadResults,
  exportRound,
  importRound,
  isFinished,
  jobPaths,
  jobStateProblems,
  loadState,
  pollBatch,
  submitRound,
  type JobState,
  writeJobPairs,
  type StoredSettings,
} from '../../core/batch';
import { parseRecord, recordToLine } from '../../core/formats';
import type { CapoStrategy } from '../../core/model';
import { CAPO_STRATEGIES, type PairFormat } from '../../core/parrot';
import {
  asUri,
  isCancel,
  withProgress,
  type CommandResult,
  type LlmContext,
  type RecordArgs,
} from './controller';
import { targetFor, records, type LineChange } from './targets';
import { entryMappings } from '../entryMappings';

export interface BatchExportArgs extends RecordArgs {
  kind?: 'extend' | 'capo';
  turns?: number;
  strategies?: CapoStrategy[];
  /** Job base path (files `<job>.state.json`, `<job>.round<k>.requests.jsonl`). */
  job?: string;
}

export interface BatchResult extends CommandResult {
  job?: string;
  requests?: number;
  requestFile?: string;
  batchId?: string;
  applied?: number;
  failed?: number;
  finished?: boolean;
  output?: string;
}

/**
 * A job's state, refused in an untrusted workspace when it names template, request or source files
 * that the restricted settings would not allow (a state file must not get around them).
 */
async function loadJob(ctx: LlmContext, job: string): Promise<JobState> {
  const s = await loadState(jobPaths(job).state);
  if (vscode.workspace.isTrusted) return s;
  const t = ctx.settings().templates;
  const problems = jobStateProblems(
    s,
    job,
    Object.values(t),
    (src) => vscode.workspace.getWorkspaceFolder(asUri(src)) !== undefined,
  );
  if (problems.length)
    throw new Error(
      vscode.l10n.t(
        'This workspace is not trusted: the job state {0} is not used ({1}).',
        path.basename(jobPaths(job).state),
        problems.join('; '),
      ),
    );
  return s;
}

function base(job: string): string {
  return job.endsWith('.state.json') ? job.slice(0, -'.state.json'.length) : job;
}

async function pickJob(job: string | undefined): Promise<string | undefined> {
  if (job) return base(job);
  const picked = await vscode.window.showOpenDialog({
    title: vscode.l10n.t('Batch job state'),
    canSelectMany: false,
    filters: { [vscode.l10n.t('Batch job')]: ['json'] },
  });
  return picked?.[0] ? base(picked[0].fsPath) : undefined;
}

export async function batchExport(ctx: LlmContext, args: BatchExportArgs = {}): Promise<BatchResult> {
  const { uri } = ctx.locate(args, false);
  const target = await targetFor(uri, ctx.editor);
  if (uri.scheme !== 'file') throw new Error(vscode.l10n.t('Batch jobs need a file on disk.'));
  const kind =
    args.kind ??
    (
      await vscode.window.showQuickPick(
        [
          {
            label: 'extend',
            value: 'extend' as const,
            detail: vscode.l10n.t('Grow every dialogue, one round per ask / answer'),
          },
          {
            label: 'capo',
            value: 'capo' as const,
            detail: vscode.l10n.t('CaPO rejected answers for context-dependent turns (one round)'),
          },
        ],
        { title: vscode.l10n.t('Batch job kind') },
      )
    )?.value;
  if (!kind) return { status: 'cancelled' };
  let turns = args.turns;
  if (kind === 'extend' && turns === undefined) {
    const v = await vscode.window.showInputBox({
      title: vscode.l10n.t('Extend to how many user turns?'),
      value: '8',
      validateInput: (x) => (/^\s*[1-9]\d*\s*$/.test(x) ? undefined : vscode.l10n.t('A whole number >= 1')),
    });
    if (v === undefined) return { status: 'cancelled' };
    turns = Number(v);
  }
  if (
    ctx.editor.document(uri)?.isDirty ||
    vscode.workspace.textDocuments.some((d) => d.uri.fsPath === uri.fsPath && d.isDirty)
  )
    throw new Error(
      vscode.l10n.t('Save {0} first: a batch job reads the file on disk.', path.basename(uri.fsPath)),
    );
  const name = path.basename(uri.fsPath);
  const s = ctx.settings();
  const strategies = args.strategies ?? s.capoStrategies ?? CAPO_STRATEGIES;
  // The job keeps each record's position and hash, never its text (the file is read again by position).
  const extendRecs: ExtendRecordState[] = [];
  const capoRecs: CapoRecordState[] = [];
  const mapping = await entryMappings().load(uri.fsPath);
  for await (const [index, text] of records(target)) {
    const p = parseRecord(text, undefined, { mapping });
    if (!p.ok) throw new Error(`${name}:${index + 1}:${p.error.column}: ${p.error.message}`);
    if (p.layout.format === 'mt-bench')
      throw new Error(
        vscode.l10n.t(
          '{0}:{1}: MT-Bench question records are extended directly, not in batch jobs.',
          name,
          index + 1,
        ),
      );
    if (p.sample.kind !== 'dialogue') continue;
    const ref = sourceRef(index + 1, text);
    if (kind === 'extend') extendRecs.push(extendEntry(ref, p.sample));
    else capoRecs.push(capoEntry(ref, p.sample, strategies));
  }
  const settings: StoredSettings = {
    extend: {
      ask: {
        mode: s.mode,
        model: s.models.asker,
        temperature: s.temperature,
        maxTokens: Math.min(s.maxTokens, 256),
        n: s.candidates,
        templateFile: s.templates[s.mode === 'parrot-ask' ? 'ask-reversed-system' : 'ask-instruct'],
      },
      answer: { model: s.models.answerer, temperature: s.temperature, maxTokens: s.maxTokens },
    },
    capo: {
      model: s.models.answerer,
      temperature: s.temperature,
      maxTokens: s.maxTokens,
      hallucinateFile: s.templates['capo-hallucinate'],
      misreadFile: s.templates['capo-misread'],
    },
  };
  const jobBase = args.job ? base(args.job) : `${uri.fsPath.replace(/\.jsonl$/i, '')}.${kind}`;
  const job = path.basename(jobBase).replace(/[^A-Za-z0-9._-]/g, '_');
  const state: JobState =
    kind === 'extend'
      ? createExtendJob({ job, source: uri.fsPath, records: extendRecs, targetTurns: turns ?? 8, settings })
      : createCapoJob({
          job,
          source: uri.fsPath,
          // Provenance names the dataset relative to the workspace, never by its absolute path.
          sourceName: ctx.sourceName(uri),
          records: capoRecs,
          settings,
        });
  const r = await exportRound(state, jobBase);
  const message = vscode.l10n.t(
    'Job {0}: round 1 has {1} request(s). Submit it with "Parrot: Submit Batch Job", or run it with vllm run-batch.',
    path.basename(jobBase),
    r.requests,
  );
  void vscode.window.showInformationMessage(message);
  return { status: 'ok', job: jobBase, requests: r.requests, requestFile: r.file, message };
}

export interface BatchJobArgs {
  job?: string;
  token?: vscode.CancellationToken;
}

export async function batchSubmit(ctx: LlmContext, args: BatchJobArgs = {}): Promise<BatchResult> {
  const job = await pickJob(args.job);
  if (!job) return { status: 'cancelled' };
  const stateFile = jobPaths(job).state;
  const s = await loadJob(ctx, job);
  if (!s.pending)
    throw new Error(
      isFinished(s)
        ? vscode.l10n.t('The job is finished — nothing to submit.')
        : vscode.l10n.t('No round is pending; import the last one first.'),
    );
  const client = await ctx.client(ctx.settings());
  const id = await withProgress(
    vscode.l10n.t('Submitting batch job {0}', path.basename(job)),
    args.token,
    (_p, signal) => submitRound(client, s, stateFile, signal),
  );
  const message = vscode.l10n.t(
    'Round {0}: {1} request(s) submitted as batch {2}.',
    s.pending.step,
    s.pending.customIds.length,
    id,
  );
  void vscode.window.showInformationMessage(message);
  return { status: 'ok', job, batchId: id, requests: s.pending.customIds.length, message };
}

export interface BatchImportArgs extends BatchJobArgs {
  /** A local result file (e.g. from `vllm run-batch`) instead of downloading. */
  results?: string;
  errors?: string;
  /** Poll until the batch is done (default true). */
  wait?: boolean;
  /** CaPO output file (default `<job>.out.jsonl`). */
  output?: string;
  format?: PairFormat;
}

export async function batchImport(ctx: LlmContext, args: BatchImportArgs = {}): Promise<BatchResult> {
  const job = await pickJob(args.job);
  if (!job) return { status: 'cancelled' };
  const stateFile = jobPaths(job).state;
  const s = await loadJob(ctx, job);
  if (!s.pending) throw new Error(vscode.l10n.t('No round is pending — nothing to import.'));
  const step = s.pending.step;
  let output: string;
  let errors = '';
  if (args.results) {
    output = await fsp.readFile(args.results, 'utf8');
    if (args.errors) errors = await fsp.readFile(args.errors, 'utf8');
  } else {
    const batchId = s.pending.batchId;
    if (!batchId)
      throw new Error(
        vscode.l10n.t('The pending round was not submitted — submit it, or import a local result file.'),
      );
    const client = await ctx.client(ctx.settings());
    const got = await withProgress(
      vscode.l10n.t('Waiting for batch {0}', batchId),
      args.token,
      async (progress, signal) => {
        try {
          const b =
            args.wait === false
              ? await client.sdk.batches.retrieve(batchId, { signal })
              : await pollBatch(client, batchId, {
                  signal,
                  intervalMs: 2000,
                  maxIntervalMs: 120_000,
                  onStatus: (x) =>
                    progress.report({
                      message: `${x.status} ${x.request_counts?.completed ?? 0}/${x.request_counts?.total ?? 0}`,
                    }),
                });
          if (!['completed', 'failed', 'expired', 'cancelled'].includes(b.status))
            return { pending: b.status };
          return await downloadResults(client, b, signal);
        } catch (e) {
          if (isCancel(e)) return undefined;
          throw e;
        }
      },
    );
    if (!got) return { status: 'cancelled', job };
    if ('pending' in got) {
      const message = vscode.l10n.t('Batch {0} is {1} — import again later.', batchId, got.pending);
      void vscode.window.showInformationMessage(message);
      return { status: 'ok', job, finished: false, message };
    }
    ({ output, errors } = got);
  }
  const r = await importRound(s, stateFile, output, errors);
  for (const e of s.errors.slice(-20)) ctx.logger.warn(`${e.custom_id}: ${e.error}`);
  for (const m of r.problems) ctx.logger.warn(m);
  if (r.problems.length)
    void vscode.window.showWarningMessage(
      vscode.l10n.t(
        'Round {0}: {1} problem(s) in the results (duplicated or foreign custom_id) — see the Parrot log. First: {2}',
        step,
        r.problems.length,
        r.problems[0] ?? '',
      ),
    );
  const result: BatchResult = { status: 'ok', job, applied: r.applied, failed: r.failed, finished: false };
  if (!isFinished(s)) {
    const next = await exportRound(s, job);
    if (next.requests > 0) {
      result.requests = next.requests;
      result.requestFile = next.file;
      result.message = vscode.l10n.t(
        'Round {0}: {1} imported, {2} failed. Round {3} has {4} request(s) — submit it next.',
        step,
        r.applied,
        r.failed,
        s.step + 1,
        next.requests,
      );
      void vscode.window.showInformationMessage(result.message);
      return result;
    }
  }
  result.finished = true;
  if (s.kind === 'extend') {
    // Imported back as edits of the source dataset: one undo step.
    const uri = asUri(s.source);
    const target = await targetFor(uri, ctx.editor);
    const changes: LineChange[] = [];
    let moved = 0;
    for (const rec of s.extend ?? []) {
      const index = rec.record - 1;
      if (index >= (await target.lineCount())) {
        moved++;
        continue;
      }
      const before = await target.readLine(index);
      const p = parseRecord(before, undefined, { mapping: await entryMappings().load(target.uri.fsPath) });
      // Only a record still as it was exported gets the generated turns.
      if (!p.ok || p.sample.kind !== 'dialogue' || recordHash(before) !== rec.hash) {
        moved++;
        continue;
      }
      if (rec.added.length === 0) continue;
      const after = recordToLine({ ...p.sample, turns: [...p.sample.turns, ...rec.added] }, p.layout);
      if (after !== before) changes.push({ index, before, after });
    }
    const applied = await target.replaceLines(vscode.l10n.t('Import batch job {0}', s.job), changes);
    result.applied = applied.applied.length;
    result.message = vscode.l10n.t(
      'Job finished: {0} record(s) of {1} updated (undo reverts them at once); {2} request(s) failed; {3} record(s) had changed and were left alone.',
      applied.applied.length,
      path.basename(uri.fsPath),
      s.errors.length,
      moved + applied.stale.length,
    );
  } else {
    const out = args.output ?? `${job}.out.jsonl`;
    const format = args.format ?? ctx.settings().capoFormat;
    const pairs = await writeJobPairs(s, format, out);
    result.output = out;
    result.message = vscode.l10n.t(
      'Job finished: {0} pair(s) in {1}; {2} request(s) failed.',
      pairs,
      path.basename(out),
      s.errors.length,
    );
  }
  if (s.errors.length)
    ctx.report(
      'parrot.batchImport',
      new Error(`${result.message ?? ''} ${s.errors[0]?.custom_id ?? ''}: ${s.errors[0]?.error ?? ''}`),
    );
  else void vscode.window.showInformationMessage(result.message ?? '');
  return result;
}
