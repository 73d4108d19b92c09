import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  createEvalJobFromFile,
  jobPaths,
  jobStateProblems,
  loadState,
  runJob,
  saveState,
  writeEvalResults,
  type JobState,
  type StoredEvalSettings,
} from '../../core/batch';
import { asUri, isCancel, withProgress, type LlmContext } from './controller';

export interface EvalBatchRun {
  status: 'ok' | 'cancelled';
  /** The job's base path (`<job>.state.json`, `<job>.round<k>.requests.jsonl`). */
  job: string;
  rounds: number;
}

/** The batch job of an evaluation whose results go to `out`: `<out without .jsonl>.batch`. */
export function evalJobBase(out: string): string {
  return `${out.replace(/\.jsonl$/i, '')}.batch`;
}

/**
 * Runs an MT-Bench++ evaluation through the Batch API (core/batch: one batch per turn, the state
 * saved after every step). `resume` continues the job beside `out` (a submitted batch is polled
 * again, never sent twice); otherwise a new job replaces it. `out` is written, with the lines a
 * live run writes, only when the job is finished; a cancelled run keeps the job for a resume.
 */
export async function runEvalBatch(
  ctx: LlmContext,
  o: {
    source: string;
    out: string;
    settings: StoredEvalSettings;
    resume: boolean;
    pollSeconds: number;
    title: string;
    token?: vscode.CancellationToken;
  },
): Promise<EvalBatchRun> {
  const job = evalJobBase(o.out);
  const { state } = jobPaths(job);
  let s: JobState;
  if (o.resume && existsSync(state)) {
    s = await loadState(state);
    const es = s.settings.eval;
    if (s.kind !== 'eval' || !es)
      throw new Error(vscode.l10n.t('{0} is not an evaluation job.', path.basename(state)));
    if (es.model !== o.settings.model || es.judgeModel !== o.settings.judgeModel)
      throw new Error(
        vscode.l10n.t(
          '{0} scores {1} judged by {2}; start over to score {3} judged by {4}.',
          path.basename(state),
          es.model,
          es.judgeModel,
          o.settings.model,
          o.settings.judgeModel,
        ),
      );
    if (!vscode.workspace.isTrusted) {
      const problems = jobStateProblems(
        s,
        job,
        [],
        (src) => vscode.workspace.getWorkspaceFolder(asUri(src)) !== undefined,
      );
      if (problems.length)
        throw new Error(
          vscode.l10n.t(
            'This workspace is not trusted: the job state {0} is not used ({1}).',
            path.basename(state),
            problems.join('; '),
          ),
        );
    }
  } else {
    s = await createEvalJobFromFile({
      job: path.basename(job).replace(/[^A-Za-z0-9._-]/g, '_'),
      source: o.source,
      settings: o.settings,
    });
    await saveState(state, s);
  }
  const client = await ctx.client(ctx.settings());
  const cancelled = await withProgress(o.title, o.token, async (progress, signal) => {
    try {
      s = await runJob(client, job, s, {
        signal,
        intervalMs: o.pollSeconds * 1000,
        maxIntervalMs: 120_000,
        onRound: (x) =>
          progress.report({ message: vscode.l10n.t('round {0}: {1} request(s)', x.step, x.requests) }),
        onStatus: (b) =>
          progress.report({
            message: vscode.l10n.t(
              'batch {0}: {1} {2}/{3}',
              b.id,
              b.status,
              b.request_counts?.completed ?? 0,
              b.request_counts?.total ?? 0,
            ),
          }),
      });
      return false;
    } catch (e) {
      if (isCancel(e) || signal.aborted) return true;
      throw e;
    }
  });
  if (cancelled) return { status: 'cancelled', job, rounds: s.step };
  for (const e of s.errors.slice(-20)) ctx.logger.warn(`${e.custom_id}: ${e.error}`);
  // Written beside, then renamed over a previous run's results.
  await fsp.mkdir(path.dirname(o.out), { recursive: true });
  await writeEvalResults(s, o.out);
  return { status: 'ok', job, rounds: s.step };
}
