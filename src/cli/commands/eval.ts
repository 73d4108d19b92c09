import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { redact, type LlmConfig } from '../../core/llm';
import {
  estimateEval,
  evalKeep,
  evaluateSession,
  isMtBenchQuestion,
  readReferences,
  sessionSlot,
  summarizeFile,
  type EvalSettings,
  type MtBenchQuestion,
  type SlotResult,
} from '../../core/parrot';
import {
  createEvalJobFromFile,
  jobPaths,
  loadState,
  runJob,
  saveState,
  writeEvalResults,
  type JobState,
} from '../../core/batch';
import { parseCommandArgs, usageError } from '../args';
import { interruptible, openRun, readAllRecords, runSlots } from '../generation';
import { progress, type CliIO } from '../io';
import { clientFor, configFrom } from './ask';
import { summaryText } from './evalSummary';

const HELP = `Usage: parrot eval QUESTIONS -o OUT --model NAME --judge-model NAME [options]

MT-Bench++ scoring. QUESTIONS is an MT-Bench-style JSONL file (question_id, category, turns).
The model under test answers every turn of a session in order, with its own earlier answers in
the history; the judge grades each answer 1-10 (single-answer grading, "Rating: [[N]]"). A verdict
that does not parse is asked again (--judge-retries), then recorded as missing - never guessed.
MT-Bench's 2-turn questions are scored as they are; to score MT-Bench++ (8 turns), grow them
first with 'parrot extend --turns 8' (it keeps question_id and category).
OUT gets one line per session, in input order: every answer, score, judge request and reply.

Options:
  -o, --output OUT       results JSONL file (required)
  --model NAME           model under test (required)
  --judge-model NAME     judge model (required)
  --references FILE      reference answers (MT-Bench's reference_answer/*.jsonl layout:
                         question_id, choices[0].turns), used for math, reasoning and coding
  --judge-retries N      extra judge requests for an unparseable verdict (default 2)
  --resume               continue an interrupted run (progress in OUT.progress.json): keep OUT's
                         finished sessions, redo those stopped by an error, do the rest; the
                         model and judge model must be the same
  --batch                go through the Batch API (OpenAI, or any server with /v1/files and
                         /v1/batches) instead of live requests: one batch per turn (every
                         session's answer to turn k and the grades of turn k-1); the same OUT
                         lines and summary as a live run. The job is kept in JOB.state.json
                         (default JOB: OUT without .jsonl plus .batch); --resume continues it
                         (a submitted batch is polled again, never sent twice). Same names as
                         'parrot batch': the job also runs with 'parrot batch status|import|run JOB'
  --job JOB              with --batch: the job's files (JOB.state.json, JOB.round<k>.requests.jsonl)
  --poll SECONDS         with --batch: first poll interval (default 10; grows to 120)
  --estimate             print the requests and approximate tokens it will take, and stop
  --json                 print the summary as JSON: {"turns":[{"turn":1,"mean":..,"n":..},..],
                         "categories":{..},"overall":..}
  --base-url URL         endpoint incl. /v1 (or PARROT_BASE_URL)
  --api-key-env NAME     environment variable holding the key (OPENAI_API_KEY is sent only to
                         https://api.openai.com without it)
  --temperature T        sampling temperature of the model under test (the judge uses 0)
  --max-tokens N         completion limit of each answer
  --concurrency N        sessions in flight at once
  --timeout SECONDS      per-request timeout
  --retries N            retries on 429/5xx/timeouts
  -h, --help             show this help

Ctrl+C stops: sessions already written stay, run again with --resume to continue.
Exit status: 0 every turn scored, 1 some verdicts missing, a session failed or the run was
cancelled, 2 usage or input error.
`;

export async function evalCommand(args: string[], io: CliIO): Promise<number> {
  const p = parseCommandArgs(
    'eval',
    args,
    {
      output: { type: 'string', short: 'o' },
      model: { type: 'string' },
      'judge-model': { type: 'string' },
      references: { type: 'string' },
      'judge-retries': { type: 'string' },
      resume: { type: 'boolean' },
      estimate: { type: 'boolean' },
      json: { type: 'boolean' },
      'base-url': { type: 'string' },
      'api-key-env': { type: 'string' },
      temperature: { type: 'string' },
      'max-tokens': { type: 'string' },
      concurrency: { type: 'string' },
      timeout: { type: 'string' },
      retries: { type: 'string' },
      batch: { type: 'boolean' },
      job: { type: 'string' },
      poll: { type: 'string' },
    } as const,
    HELP,
    io,
  );
  if (typeof p === 'number') return p;
  const v = p.values;
  if (p.positionals.length !== 1) return usageError('eval', 'exactly one QUESTIONS file is needed', io);
  const file = p.positionals[0];
  if (!v.model) return usageError('eval', '--model NAME (the model under test) is required', io);
  if (!v['judge-model']) return usageError('eval', '--judge-model NAME is required', io);
  if (!v.output && !v.estimate) return usageError('eval', '-o OUT is required', io);
  const judgeRetries = v['judge-retries'] === undefined ? 2 : Number(v['judge-retries']);
  if (!Number.isInteger(judgeRetries) || judgeRetries < 0)
    return usageError('eval', '--judge-retries must be a whole number >= 0', io);
  let config: LlmConfig;
  try {
    const c = configFrom({
      'base-url': v['base-url'],
      'api-key-env': v['api-key-env'],
      'answer-model': v.model,
      'asker-model': v.model,
      temperature: v.temperature,
      'max-tokens': v['max-tokens'],
      concurrency: v.concurrency,
      timeout: v.timeout,
      retries: v.retries,
    });
    config = c.config;
    if (c.keyNote && !v.estimate) io.stderr.write(`parrot eval: note: ${c.keyNote}\n`);
  } catch (e) {
    return usageError('eval', e instanceof Error ? e.message : String(e), io);
  }
  const records = await readAllRecords('eval', file, io, (r) => {
    if (!isMtBenchQuestion(r.value) || typeof r.value.category !== 'string')
      throw new Error(`${file}:${r.line}:1: not an MT-Bench question (question_id, category, turns)`);
    if (r.value.turns.length === 0) throw new Error(`${file}:${r.line}:1: no turns`);
  });
  if (typeof records === 'number') return records;
  const questions = records.map((r) => r.value as MtBenchQuestion);
  let references: Map<string, string[]> | undefined;
  try {
    if (v.references) references = await readReferences(v.references);
  } catch (e) {
    io.stderr.write(`parrot eval: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const settings: EvalSettings = {
    model: v.model,
    judgeModel: v['judge-model'],
    temperature: config.temperature,
    maxTokens: config.maxTokens,
    judgeRetries,
    references,
  };
  if (v.estimate) {
    const e = estimateEval(questions, settings);
    io.stdout.write(
      `${e.sessions} session(s), ${e.turns} turn(s)\n${e.answerRequests + e.judgeRequests} request(s): ${e.answerRequests} answer (${settings.model}), ${e.judgeRequests} judge (${settings.judgeModel}), more if verdicts need retries\n~${e.promptTokens} prompt token(s) (o200k_base estimate, answers assumed ${Math.round(settings.maxTokens / 2)} tokens)\n`,
    );
    return 0;
  }
  const outFile = v.output as string;
  if (v.batch) return evalBatch(file, outFile, settings, v, config, io);
  if (!v.resume && existsSync(outFile))
    return usageError('eval', `${outFile} exists — use --resume to continue it, or choose another -o`, io);
  const say = (m: string): boolean => io.stderr.write(`parrot eval: ${redact(m, [config.apiKey])}\n`);
  const output = await openRun(
    {
      out: outFile,
      input: path.resolve(file),
      keep: evalKeep(settings),
      resume: v.resume === true,
    },
    questions.length,
    say,
    { unit: 'session(s)', input: file, redo: 'redoing {n} stopped by an error' },
  );
  if (!output) return 2;
  const retry = [...output.failed];

  const client = clientFor(config, io);
  const stop = interruptible('eval', io);
  const bar = progress(io);
  const total = questions.length - output.records + retry.length;
  let cancelled = false;
  let done = 0;
  /** One session, from its first turn; undefined when cancelled (not written: a resume redoes it). */
  const work = async (slot: number): Promise<SlotResult | undefined> => {
    const r = await evaluateSession(client, questions[slot], settings, stop.signal);
    if (r.status === 'cancelled') {
      cancelled = true;
      return undefined;
    }
    done++;
    bar.update(`eval: ${done}/${total} session(s)`);
    return sessionSlot(r);
  };
  try {
    await runSlots(output, questions.length, {
      concurrency: config.concurrency,
      signal: stop.signal,
      work: (slot) => work(slot),
    });
  } finally {
    stop.dispose();
    bar.done();
  }
  cancelled = cancelled || stop.signal.aborted;
  for (const f of output.failed) say(`${file}:${records[f.slot]?.line ?? f.slot + 1}: ${f.error}`);
  const short = output.failed.length;
  const summary = await summarizeFile(outFile);
  say(
    `${output.records}/${questions.length} session(s) in ${outFile}${short ? `, ${short} stopped by an error (finished turns kept; --resume redoes them)` : ''}${cancelled ? ' — cancelled; run again with --resume' : ''}`,
  );
  io.stdout.write(v.json ? `${JSON.stringify(summary)}\n` : summaryText(summary));
  return short || cancelled || summary.missing || output.records < questions.length ? 1 : 0;
}

/**
 * `parrot eval --batch`: the evaluation as a batch job (core/batch: rounds, state, resume), run
 * to the end; OUT is written when the job is finished, with the lines a live run writes.
 */
async function evalBatch(
  file: string,
  outFile: string,
  settings: EvalSettings,
  v: { job?: string; poll?: string; resume?: boolean; json?: boolean; references?: string },
  config: LlmConfig,
  io: CliIO,
): Promise<number> {
  const say = (m: string): boolean => io.stderr.write(`parrot eval: ${redact(m, [config.apiKey])}\n`);
  const base = v.job ?? `${outFile.replace(/\.jsonl$/i, '')}.batch`;
  const { state } = jobPaths(base);
  let s: JobState;
  if (existsSync(state)) {
    if (!v.resume)
      return usageError(
        'eval',
        `${state} exists — use --resume to continue the job, or choose another --job`,
        io,
      );
    s = await loadState(state);
    const es = s.settings.eval;
    if (s.kind !== 'eval' || !es) return usageError('eval', `${state} is not an eval job`, io);
    if (es.model !== settings.model || es.judgeModel !== settings.judgeModel)
      return usageError(
        'eval',
        `${state} scores ${es.model} judged by ${es.judgeModel}; this run asks for ${settings.model} judged by ${settings.judgeModel}`,
        io,
      );
    if (path.resolve(s.source) !== path.resolve(file))
      return usageError('eval', `${state} was made from ${s.source}, not ${file}`, io);
  } else {
    if (existsSync(outFile)) return usageError('eval', `${outFile} exists — choose another -o`, io);
    s = await createEvalJobFromFile({
      job: path.basename(base).replace(/[^A-Za-z0-9._-]/g, '_'),
      source: file,
      settings: {
        model: settings.model,
        judgeModel: settings.judgeModel,
        temperature: settings.temperature,
        maxTokens: settings.maxTokens,
        judgeRetries: settings.judgeRetries,
        ...(v.references ? { referencesFile: path.resolve(v.references) } : {}),
      },
    });
    await saveState(state, s);
  }
  const client = clientFor(config, io);
  const stop = interruptible('eval', io);
  const bar = progress(io);
  let done: JobState;
  try {
    done = await runJob(client, base, s, {
      signal: stop.signal,
      intervalMs: Number(v.poll ?? 10) * 1000,
      maxIntervalMs: 120_000,
      onRound: (x) => say(`round ${x.step}: ${x.requests} request(s)`),
      onStatus: (b) =>
        bar.update(
          `batch ${b.id}: ${b.status} ${b.request_counts?.completed ?? 0}/${b.request_counts?.total ?? 0}`,
        ),
      onImported: (x) => {
        bar.done();
        say(`round ${x.step}: ${x.applied} imported, ${x.failed} failed`);
      },
    });
  } catch (e) {
    bar.done();
    say(e instanceof Error ? e.message : String(e));
    if (stop.signal.aborted) say(`cancelled — the job is saved in ${state}; run again with --resume`);
    return stop.signal.aborted || (e instanceof Error && e.name === 'LlmError') ? 1 : 2;
  } finally {
    stop.dispose();
    bar.done();
  }
  await writeEvalResults(done, outFile);
  for (const e of done.errors.slice(-20)) say(`${e.custom_id}: ${e.error}`);
  const summary = await summarizeFile(outFile);
  const sessions = done.eval ?? [];
  say(
    `${sessions.length} session(s) in ${outFile} (batch job ${state}, ${done.step} round(s))${summary.failed ? `, ${summary.failed} stopped by an error` : ''}`,
  );
  io.stdout.write(v.json ? `${JSON.stringify(summary)}\n` : summaryText(summary));
  return summary.failed || summary.missing ? 1 : 0;
}
