import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { redact, type LlmConfig } from '../../core/llm';
import type { CapoStrategy, Dialogue } from '../../core/model';
import {
  CAPO_STRATEGIES,
  capo,
  dependentTurns,
  loadTemplate,
  needsSidecar,
  PAIR_FORMATS,
  pairLines,
  sidecarPath,
  type SlotResult,
  type CapoJudge,
  type CapoSettings,
  type PairFormat,
} from '../../core/parrot';
import { parseCommandArgs, usageError } from '../args';
import { interruptible, openRun, readAllRecords, runSlots } from '../generation';
import { progress, type CliIO } from '../io';
import {
  asDialogue,
  clientFor,
  configFrom,
  DATASET_INFO_HELP,
  DATASET_INFO_OPTIONS,
  ENDPOINT_HELP,
  ENDPOINT_OPTIONS,
  readRecords,
} from './ask';

const HELP = `Usage: parrot capo -o OUT [options] FILE

Builds CaPO preference pairs from the dialogues of FILE. For each context-dependent user turn
(offline detector, or --turns all), the record's own answer is "chosen" and a context-broken
answer from the answer model is "rejected":
  neglect      answered with the history deleted
  hallucinate  history deleted, the model told to assume what the references mean
  misread      full history, the reference resolved to a wrong, unrelated earlier turn
Each pair records strategy, source file/record/turn, models, template version and time.

Options:
  --strategies LIST      comma-separated (default neglect,hallucinate,misread)
  --format F             trl (default) | openai-preference | sharegpt-preference
                         (openai-preference rejects extra keys: provenance goes to OUT.provenance.jsonl)
  --turns WHICH          dependent (default) | all
  --threshold X          context-dependence score needed, 0..1 (default 0.5)
  --judge                confirm each selected turn with an LLM context judge first (the paper's
                         second stage): only turns it calls DEPENDENT get pairs; an unparseable
                         verdict is asked again (--judge-retries, default 1), then the turn is short
  --judge-model NAME     the judge model (default: the answer model)
  --judge-template FILE  your own judge template (default: capo-judge)
  --regenerate-chosen    the chosen answer comes from the answer model (full context), not the
                         record: one more request per turn; provenance names the model
  --dataset-name NAME    with --format sharegpt-preference: the name of the LLaMA-Factory
                         dataset_info.json entry (default: OUT's name)
  --estimate             print the requests (judge requests included) and stop
  --hallucinate-template FILE, --misread-template FILE   your own templates
  -o, --output OUT       output JSONL (required)
  --resume               continue an interrupted run (progress in OUT.progress.json); records
                         that were short (a request failed) are made again
${DATASET_INFO_HELP}  -h, --help             show this help

${ENDPOINT_HELP}
Exit status: 0 done, 1 some records short (a request failed) or cancelled, 2 usage or input error.
`;

export async function capoCommand(args: string[], io: CliIO): Promise<number> {
  const p = parseCommandArgs(
    'capo',
    args,
    {
      ...ENDPOINT_OPTIONS,
      ...DATASET_INFO_OPTIONS,
      strategies: { type: 'string' },
      format: { type: 'string' },
      turns: { type: 'string' },
      threshold: { type: 'string' },
      'hallucinate-template': { type: 'string' },
      'misread-template': { type: 'string' },
      judge: { type: 'boolean' },
      'judge-model': { type: 'string' },
      'judge-retries': { type: 'string' },
      'judge-template': { type: 'string' },
      estimate: { type: 'boolean' },
      'regenerate-chosen': { type: 'boolean' },
      'dataset-name': { type: 'string' },
      output: { type: 'string', short: 'o' },
      resume: { type: 'boolean' },
    } as const,
    HELP,
    io,
  );
  if (typeof p === 'number') return p;
  if (p.positionals.length !== 1) return usageError('capo', 'exactly one FILE is needed', io);
  const file = p.positionals[0];
  const out = p.values.output;
  if (!out) return usageError('capo', '-o OUT is required', io);
  const strategies = (p.values.strategies ?? CAPO_STRATEGIES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = strategies.filter((s) => !(CAPO_STRATEGIES as readonly string[]).includes(s));
  if (bad.length || !strategies.length)
    return usageError('capo', `unknown strategy '${bad.join(',')}' (use ${CAPO_STRATEGIES.join(', ')})`, io);
  const format = (p.values.format ?? 'trl') as PairFormat;
  if (!PAIR_FORMATS.includes(format))
    return usageError('capo', `--format must be one of ${PAIR_FORMATS.join(', ')}`, io);
  const which = p.values.turns ?? 'dependent';
  if (which !== 'dependent' && which !== 'all')
    return usageError('capo', '--turns must be dependent or all', io);
  const threshold = p.values.threshold !== undefined ? Number(p.values.threshold) : 0.5;
  if (!(threshold >= 0 && threshold <= 1))
    return usageError('capo', '--threshold must be between 0 and 1', io);
  const judgeRetries = p.values['judge-retries'] !== undefined ? Number(p.values['judge-retries']) : 1;
  if (!Number.isInteger(judgeRetries) || judgeRetries < 0)
    return usageError('capo', '--judge-retries must be a whole number >= 0', io);
  let config: LlmConfig;
  let settings: CapoSettings;
  let judge: CapoJudge | undefined;
  try {
    const c = configFrom(p.values);
    config = c.config;
    if (c.keyNote) io.stderr.write(`parrot capo: note: ${c.keyNote}\n`);
    settings = {
      model: config.models.answerer,
      temperature: config.temperature,
      maxTokens: config.maxTokens,
      templates: {
        hallucinate: loadTemplate('capo-hallucinate', p.values['hallucinate-template']),
        misread: loadTemplate('capo-misread', p.values['misread-template']),
      },
    };
    if (p.values.judge || p.values['judge-model'] !== undefined)
      judge = {
        model: p.values['judge-model'] ?? config.models.answerer,
        retries: judgeRetries,
        template: loadTemplate('capo-judge', p.values['judge-template']),
      };
  } catch (e) {
    return usageError('capo', e instanceof Error ? e.message : String(e), io);
  }
  const records = await readAllRecords(
    'capo',
    file,
    io,
    (r) => asDialogue(r, file, 'capo'),
    readRecords(file, p.values['no-dataset-info'] !== true),
  );
  if (typeof records === 'number') return records;
  const turnsOf = (d: Dialogue): number[] =>
    which === 'all'
      ? d.turns.flatMap((t, i) =>
          t.role === 'assistant' && i > 0 && d.turns[i - 1]?.role === 'user' ? [i] : [],
        )
      : dependentTurns(d, threshold).map((t) => t.index);
  if (p.values.estimate) {
    let turns = 0;
    for (const r of records) turns += turnsOf(r.sample as Dialogue).length;
    const judged = judge ? turns : 0;
    const regen = p.values['regenerate-chosen'] ? turns : 0;
    io.stdout.write(
      `${records.length} record(s), ${turns} selected turn(s): ${judged} judge request(s)${judge ? ' (more for unparseable verdicts)' : ''} + up to ${turns * strategies.length + regen} answer request(s) (${strategies.length} strategies${regen ? ', one chosen answer per turn' : ''}${judge ? ', only for the turns the judge confirms' : ''})\n`,
    );
    return 0;
  }
  if (!p.values.resume && existsSync(out))
    return usageError('capo', `${out} exists — use --resume to continue it, or choose another -o`, io);
  const say = (m: string): boolean => io.stderr.write(`parrot capo: ${redact(m, [config.apiKey])}\n`);
  const output = await openRun(
    {
      out,
      sidecar: needsSidecar(format) ? sidecarPath(out) : undefined,
      input: path.resolve(file),
      keep: {
        format,
        strategies: strategies.join(','),
        turns: which,
        judge: judge?.model ?? '',
        chosen: p.values['regenerate-chosen'] ? 'regenerated' : 'record',
      },
      resume: p.values.resume === true,
    },
    records.length,
    say,
    { unit: 'record(s)', input: file, redo: 'retrying {n} that were short' },
  );
  if (!output) return 2;
  // Provenance names the source relative to the output's folder: no absolute local path leaks.
  const sourceName = relativeSource(file, out);
  const client = clientFor(config, io);
  const stop = interruptible('capo', io);
  const bar = progress(io);
  const problems: string[] = [];
  let pairs = 0;
  let cancelled = false;
  let finished = 0;
  const work = async (slot: number): Promise<SlotResult | undefined> => {
    const r = records[slot];
    const d = r.sample as Dialogue;
    const res = await capo(client, d, settings, {
      strategies: strategies as CapoStrategy[],
      turns: turnsOf(d),
      threshold,
      judge,
      regenerateChosen: p.values['regenerate-chosen'] === true,
      source: { file: sourceName, record: r.line },
      signal: stop.signal,
    });
    finished++;
    bar.update(`capo: ${finished} record(s), ${pairs} pair(s)`);
    if (res.cancelled) {
      cancelled = true;
      return undefined; // not written: --resume redoes the record
    }
    for (const s of res.skipped.filter((x) => !x.failed))
      problems.push(`${file}:${r.line}: turn ${s.turn}${s.strategy ? ` ${s.strategy}` : ''}: ${s.reason}`);
    const failed = res.skipped.filter((x) => x.failed);
    const lines = res.pairs.map((pair) => pairLines(pair, format));
    pairs += lines.length;
    return {
      lines: lines.map((l) => l.line),
      side: lines.flatMap((l) => (l.sidecar ? [l.sidecar] : [])),
      error: failed.length
        ? failed.map((x) => `turn ${x.turn}${x.strategy ? ` ${x.strategy}` : ''}: ${x.reason}`).join('; ')
        : undefined,
    };
  };
  try {
    await runSlots(output, records.length, {
      concurrency: config.concurrency,
      signal: stop.signal,
      work: (slot) => work(slot),
    });
  } finally {
    stop.dispose();
    bar.done();
  }
  cancelled = cancelled || stop.signal.aborted;
  for (const m of problems) say(m);
  for (const f of output.failed) say(`${file}:${records[f.slot]?.line ?? f.slot + 1}: ${f.error}`);
  const short = output.failed.length;
  say(
    `${output.lines} pair(s) from ${output.records}/${records.length} record(s) in ${out}${needsSidecar(format) ? ` (provenance: ${sidecarPath(out)})` : ''}${short ? `; ${short} record(s) short — --resume retries them` : ''}${cancelled ? ' — cancelled; run again with --resume' : ''}`,
  );
  if (format === 'sharegpt-preference') declareRanking(out, p.values['dataset-name'], say);
  return short || cancelled || output.records < records.length ? 1 : 0;
}

/**
 * LLaMA-Factory reads ShareGPT preference pairs through a `dataset_info.json` entry with
 * `ranking: true`: written beside OUT when there is none, else printed to add by hand (an existing
 * file is never rewritten here).
 */
function declareRanking(out: string, name: string | undefined, say: (m: string) => boolean): void {
  const info = path.join(path.dirname(out), 'dataset_info.json');
  const entry = {
    [name ?? path.basename(out).replace(/\.jsonl?$/i, '')]: sharegptRankingEntry(path.basename(out)),
  };
  const text = JSON.stringify(entry, null, 2);
  if (existsSync(info)) say(`${info} exists and is left as it is; add this entry:\n${text.slice(2, -2)}`);
  else {
    writeFileSync(info, text + '\n');
    say(`LLaMA-Factory entry written to ${info}`);
  }
}

/** The `dataset_info.json` entry of a ShareGPT preference file (`ranking: true`). */
export function sharegptRankingEntry(fileName: string): Record<string, unknown> {
  return {
    file_name: fileName,
    formatting: 'sharegpt',
    ranking: true,
    columns: { messages: 'conversations', chosen: 'chosen', rejected: 'rejected', system: 'system' },
  };
}

/** `file` as provenance names it: relative to the output's folder, with `/` separators. */
export function relativeSource(file: string, out: string): string {
  const rel = path.relative(path.dirname(path.resolve(out)), path.resolve(file));
  return rel.split(path.sep).join('/');
}
