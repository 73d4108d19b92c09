import { randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  estimateEval,
  evalKeep,
  evaluateSession,
  isMtBenchQuestion,
  readRunProgress,
  RunOutput,
  sessionSlot,
  summarizeFile,
  type EvalSettings,
  type SlotResult,
  type EvalSummary,
  type MtBenchQuestion,
} from '../../core/parrot';
import { withProgress, type CommandResult, type LlmContext, type RecordArgs } from './controller';
import { pool } from './generate';
import { evalJobBase, runEvalBatch } from './evaluateBatch';

export interface EvaluateArgs extends RecordArgs {
  /** Model under test (default: asked, proposing the answer model). */
  model?: string;
  /** Judge model (default: asked). */
  judgeModel?: string;
  /** Results file (default: `<questions>.eval-<model>.jsonl` beside the questions). */
  output?: vscode.Uri | string;
  /** What to do when the results file exists (default: asked). */
  existing?: 'resume' | 'overwrite';
  /** Skip the confirmation with the estimate. */
  confirm?: false;
  /** Live requests, or through the Batch API (default: asked). */
  mode?: 'live' | 'batch';
  /** Batch mode: first poll interval in seconds (default 10; grows to 120). */
  pollSeconds?: number;
}

export interface EvaluateResult extends CommandResult {
  output?: string;
  summary?: EvalSummary;
  /** The results view's HTML (tests read it). */
  html?: string;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(x: number | null): string {
  return x === null ? '–' : x.toFixed(2);
}

/**
 * The results page: a table (the accessible view of the numbers) and an SVG bar chart of the mean
 * score per turn drawn here, themed with VS Code's colours. No script runs in the page; the CSP
 * allows only its own nonce'd style.
 */
export function resultsHtml(title: string, s: EvalSummary): string {
  const nonce = randomBytes(18).toString('base64');
  const w = 40;
  const h = 160;
  const bars = s.turns
    .map((t, i) => {
      const bh = t.mean === null ? 0 : (t.mean / 10) * h;
      return `<g><rect x="${i * w + 30}" y="${h - bh + 10}" width="${w - 10}" height="${bh}" class="bar"></rect><text x="${i * w + 45}" y="${h + 26}" text-anchor="middle">${t.turn}</text><text x="${i * w + 45}" y="${h - bh + 5}" text-anchor="middle">${fmt(t.mean)}</text></g>`;
    })
    .join('');
  const axis = [0, 5, 10]
    .map((v) => `<text x="20" y="${h + 10 - (v / 10) * h + 4}" text-anchor="end">${v}</text>`)
    .join('');
  const rows = s.turns
    .map(
      (t) =>
        `<tr><th scope="row">${t.turn}</th><td>${fmt(t.mean)}</td><td>${t.n}</td><td>${t.missing}</td></tr>`,
    )
    .join('');
  const cats = Object.entries(s.categories)
    .map(
      ([k, c]) =>
        `<tr><th scope="row">${esc(k)}</th><td>${fmt(c.mean)}</td><td>${c.n}</td><td>${c.missing}</td></tr>`,
    )
    .join('');
  const t = (x: string): string => esc(x);
  return `<!DOCTYPE html>
<html lang="${esc(vscode.env.language)}"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}'">
<title>${esc(title)}</title>
<style nonce="${nonce}">
body{color:var(--vscode-foreground);background:var(--vscode-editor-background);font-family:var(--vscode-font-family)}
table{border-collapse:collapse;margin:1em 0}th,td{padding:2px 10px;text-align:right;border-bottom:1px solid var(--vscode-panel-border)}
svg text{fill:var(--vscode-descriptionForeground);font-size:11px}.bar{fill:var(--vscode-charts-blue)}
</style></head><body>
<h1>${esc(title)}</h1>
<p id="overall">${t(vscode.l10n.t('Overall {0} over {1} scored turn(s) of {2} session(s); {3} verdict(s) missing.', fmt(s.overall), s.n, s.sessions, s.missing))}</p>
<svg role="img" aria-label="${t(vscode.l10n.t('Mean score per turn (the table below has the same numbers)'))}" width="${s.turns.length * w + 40}" height="${h + 40}">${axis}${bars}</svg>
<table id="turns"><caption>${t(vscode.l10n.t('Mean score per turn'))}</caption><thead><tr><th scope="col">${t(vscode.l10n.t('Turn'))}</th><th scope="col">${t(vscode.l10n.t('Mean'))}</th><th scope="col">${t(vscode.l10n.t('Scored'))}</th><th scope="col">${t(vscode.l10n.t('Missing'))}</th></tr></thead><tbody>${rows}</tbody></table>
<table id="categories"><caption>${t(vscode.l10n.t('Mean score per category'))}</caption><thead><tr><th scope="col">${t(vscode.l10n.t('Category'))}</th><th scope="col">${t(vscode.l10n.t('Mean'))}</th><th scope="col">${t(vscode.l10n.t('Scored'))}</th><th scope="col">${t(vscode.l10n.t('Missing'))}</th></tr></thead><tbody>${cats}</tbody></table>
</body></html>`;
}

async function pick(value: string | undefined, prompt: string, def: string): Promise<string | undefined> {
  if (value) return value;
  const v = await vscode.window.showInputBox({ prompt, value: def, ignoreFocusOut: true });
  return v?.trim() || undefined;
}

/** Parrot: Evaluate on MT-Bench++… — scores a model on an MT-Bench-style questions file. */
export async function evaluateFile(ctx: LlmContext, args: EvaluateArgs = {}): Promise<EvaluateResult> {
  const { uri } = ctx.locate(args, false);
  const name = path.basename(uri.fsPath);
  const text = await fsp.readFile(uri.fsPath, 'utf8');
  const questions: MtBenchQuestion[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new Error(`${name}:${i + 1}:1: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!isMtBenchQuestion(v) || typeof v.category !== 'string' || v.turns.length === 0)
      throw new Error(
        vscode.l10n.t('{0}:{1}:1: not an MT-Bench question (question_id, category, turns)', name, i + 1),
      );
    questions.push(v);
  });
  if (questions.length === 0) throw new Error(vscode.l10n.t('{0} has no MT-Bench question.', name));
  const s = ctx.settings();
  const model = await pick(args.model, vscode.l10n.t('Model under test'), s.models.answerer);
  if (!model) return { status: 'cancelled' };
  const judgeModel = await pick(args.judgeModel, vscode.l10n.t('Judge model (grades every turn 1–10)'), '');
  if (!judgeModel) return { status: 'cancelled' };
  const mode =
    args.mode ??
    (
      await vscode.window.showQuickPick(
        [
          {
            label: vscode.l10n.t('Live'),
            value: 'live' as const,
            detail: vscode.l10n.t('Send the requests now, a few sessions at a time'),
          },
          {
            label: vscode.l10n.t('Batch'),
            value: 'batch' as const,
            detail: vscode.l10n.t(
              'Through the Batch API (/v1/files, /v1/batches): one batch per turn, cheaper, resumable',
            ),
          },
        ],
        { title: vscode.l10n.t('How to send the requests') },
      )
    )?.value;
  if (!mode) return { status: 'cancelled' };
  const out =
    args.output !== undefined
      ? typeof args.output === 'string'
        ? args.output
        : args.output.fsPath
      : path.join(
          path.dirname(uri.fsPath),
          `${path.basename(name, path.extname(name))}.eval-${model.replace(/[^\w.-]+/g, '_')}.jsonl`,
        );
  const settings: EvalSettings = {
    model,
    judgeModel,
    temperature: s.temperature,
    maxTokens: s.maxTokens,
    judgeRetries: 2,
  };
  if (mode === 'batch') return evaluateInBatch(ctx, args, { uri, name, questions, settings, out });
  const source = ctx.sourceName(uri);
  let resume = false;
  if (existsSync(out)) {
    // An unreadable progress file is an error, never "start over".
    const previous = await readRunProgress(out);
    const choice = await resumeOrStartOver(
      args,
      out,
      previous
        ? vscode.l10n.t(
            '{0} holds an interrupted run ({1} of {2} sessions done). Resume it or start over?',
            path.basename(out),
            previous.records,
            questions.length,
          )
        : undefined,
    );
    if (choice === 'cancel') return { status: 'cancelled' };
    resume = choice === 'resume';
  }
  // Ordering, progress and resume: the same mechanism as the CLI (core RunOutput). A resume is
  // checked (input, model, judge) before the confirmation; a fresh run replaces the file only after it.
  const open = (): Promise<RunOutput> =>
    RunOutput.open({ out, input: source, keep: evalKeep(settings), resume, overwrite: !resume });
  const resumed = resume ? await open() : undefined;
  if (resumed && resumed.records > questions.length) {
    await resumed.close();
    throw new Error(
      vscode.l10n.t('{0} holds more sessions than {1} has questions.', path.basename(out), name),
    );
  }
  const skip = resumed?.records ?? 0;
  const retry = [...(resumed?.failed ?? [])];
  const todo = [...retry.map((f) => f.slot), ...questions.map((_, i) => i).slice(skip)];
  const est = estimateEval(
    todo.map((i) => questions[i]),
    settings,
  );
  if (args.confirm !== false) {
    const go = vscode.l10n.t('Evaluate');
    const answer = await vscode.window.showInformationMessage(
      vscode.l10n.t(
        'Evaluate {0} on {1} session(s) of {2}, judged by {3}?',
        model,
        todo.length,
        name,
        judgeModel,
      ),
      {
        modal: true,
        detail: vscode.l10n.t(
          'About {0} requests ({1} answer, {2} judge; more if verdicts need retries) to {3}, ~{4} prompt tokens (o200k estimate). {5} session(s) already done.',
          est.answerRequests + est.judgeRequests,
          est.answerRequests,
          est.judgeRequests,
          ctx.host(s),
          est.promptTokens.toLocaleString(),
          skip - retry.length,
        ),
      },
      go,
    );
    if (answer !== go) {
      await resumed?.close();
      return { status: 'cancelled' };
    }
  }
  const output = resumed ?? (await open());
  let cancelled = false;
  try {
    const client = await ctx.client(s);
    await withProgress(
      vscode.l10n.t('Evaluating {0} on {1}', model, name),
      args.token,
      async (progress, signal) => {
        let finished = 0;
        /** One session from its first turn; undefined when cancelled (not written: a resume redoes it). */
        const work = async (slot: number): Promise<SlotResult | undefined> => {
          const q = questions[slot];
          const r = await evaluateSession(client, q, settings, signal);
          if (r.status === 'cancelled') {
            cancelled = true;
            return undefined;
          }
          if (r.status === 'failed')
            ctx.logger.warn(`${name}: question ${String(q.question_id)}: ${r.error ?? 'failed'}`);
          finished++;
          progress.report({
            increment: 100 / todo.length,
            message: vscode.l10n.t('{0}/{1} session(s)', finished, todo.length),
          });
          return sessionSlot(r);
        };
        if (retry.length) {
          const redone = new Map<number, SlotResult>();
          await pool(retry, Math.max(1, s.concurrency), signal, async (f) => {
            const res = await work(f.slot);
            if (res) redone.set(f.slot, res);
          });
          await output.repair(redone);
        }
        await pool(
          questions.map((_, i) => i).slice(skip),
          Math.max(1, s.concurrency),
          signal,
          async (slot) => {
            const res = await work(slot);
            if (res) await output.put(slot, res);
          },
        );
        if (signal.aborted) cancelled = true;
      },
    );
  } finally {
    await output.close(output.records === questions.length && !cancelled);
  }
  return present({
    out,
    name,
    settings,
    sessions: output.records,
    total: questions.length,
    failed: output.failed.length,
    cancelled,
  });
}

/** Shows the results of a run (the view with its table and chart, and a message). */
async function present(o: {
  out: string;
  name: string;
  settings: Pick<EvalSettings, 'model' | 'judgeModel'>;
  sessions: number;
  total: number;
  failed: number;
  cancelled: boolean;
  note?: string;
}): Promise<EvaluateResult> {
  const { out, name, cancelled } = o;
  const { model, judgeModel } = o.settings;
  const summary = await summarizeFile(out);
  const title = vscode.l10n.t('MT-Bench++: {0} (judge {1})', model, judgeModel);
  const panel = vscode.window.createWebviewPanel('parrot.evalResults', title, vscode.ViewColumn.Active, {
    enableScripts: false,
  });
  panel.webview.html = resultsHtml(title, summary);
  const message = vscode.l10n.t(
    '{0}: {1}/{2} session(s) scored in {3}, overall {4}; {5} verdict(s) missing, {6} session(s) stopped by an error.{7}',
    name,
    o.sessions,
    o.total,
    path.basename(out),
    fmt(summary.overall),
    summary.missing,
    o.failed,
    cancelled ? ` ${vscode.l10n.t('Cancelled: run it again and choose Resume.')}` : (o.note ?? ''),
  );
  void vscode.window.showInformationMessage(message);
  return { status: cancelled ? 'cancelled' : 'ok', output: out, summary, html: panel.webview.html, message };
}

/**
 * Asks whether to resume an unfinished run (`unfinished`: the question; undefined when the output
 * is a finished run, which can only be started over), unless `args.existing` answers it.
 */
async function resumeOrStartOver(
  args: EvaluateArgs,
  out: string,
  unfinished: string | undefined,
): Promise<'resume' | 'over' | 'cancel'> {
  if (args.existing === 'resume') return 'resume';
  if (args.existing === 'overwrite') return 'over';
  const cont = vscode.l10n.t('Resume');
  const over = vscode.l10n.t('Start Over');
  const choice = await vscode.window.showWarningMessage(
    unfinished ?? vscode.l10n.t('{0} exists (a finished run). Start over?', path.basename(out)),
    { modal: true },
    ...(unfinished ? [cont, over] : [over]),
  );
  return choice === cont ? 'resume' : choice === over ? 'over' : 'cancel';
}

/**
 * The evaluation through the Batch API: the job beside the results file (`<results>.batch.state.json`)
 * is resumed or replaced, the estimate confirmed, the rounds run; the results are the live run's.
 */
async function evaluateInBatch(
  ctx: LlmContext,
  args: EvaluateArgs,
  o: { uri: vscode.Uri; name: string; questions: MtBenchQuestion[]; settings: EvalSettings; out: string },
): Promise<EvaluateResult> {
  const { name, questions, settings, out } = o;
  const state = `${evalJobBase(out)}.state.json`;
  let resume = false;
  if (existsSync(state) || existsSync(out)) {
    const pending = existsSync(state) && !existsSync(out);
    const choice = await resumeOrStartOver(
      args,
      out,
      pending
        ? vscode.l10n.t('{0} holds an unfinished batch job. Resume it or start over?', path.basename(state))
        : undefined,
    );
    if (choice === 'cancel') return { status: 'cancelled' };
    resume = choice === 'resume';
  }
  if (args.confirm !== false) {
    const est = estimateEval(questions, settings);
    const go = vscode.l10n.t('Evaluate');
    const answer = await vscode.window.showInformationMessage(
      vscode.l10n.t(
        'Evaluate {0} on {1} session(s) of {2}, judged by {3}, through the Batch API?',
        settings.model,
        questions.length,
        name,
        settings.judgeModel,
      ),
      {
        modal: true,
        detail: vscode.l10n.t(
          'About {0} requests ({1} answer, {2} judge; more if verdicts need retries) to {3} in one batch per turn, ~{4} prompt tokens (o200k estimate).',
          est.answerRequests + est.judgeRequests,
          est.answerRequests,
          est.judgeRequests,
          ctx.host(ctx.settings()),
          est.promptTokens.toLocaleString(),
        ),
      },
      go,
    );
    if (answer !== go) return { status: 'cancelled' };
  }
  const run = await runEvalBatch(ctx, {
    source: o.uri.fsPath,
    out,
    settings: {
      model: settings.model,
      judgeModel: settings.judgeModel,
      temperature: settings.temperature,
      maxTokens: settings.maxTokens,
      judgeRetries: settings.judgeRetries,
    },
    resume,
    pollSeconds: args.pollSeconds ?? 10,
    title: vscode.l10n.t('Evaluating {0} on {1} (Batch API)', settings.model, name),
    token: args.token,
  });
  if (run.status === 'cancelled') {
    const message = vscode.l10n.t(
      'Cancelled after {0} round(s); the batch job {1} is kept: run it again and choose Resume.',
      run.rounds,
      path.basename(state),
    );
    void vscode.window.showInformationMessage(message);
    return { status: 'cancelled', message };
  }
  const lines = (await fsp.readFile(out, 'utf8')).split('\n').filter((l) => l.trim());
  const failed = lines.filter((l) => (JSON.parse(l) as { status?: string }).status === 'failed').length;
  return present({
    out,
    name,
    settings,
    sessions: lines.length,
    total: questions.length,
    failed,
    cancelled: false,
    note: ` ${vscode.l10n.t('{0} batch round(s).', run.rounds)}`,
  });
}
