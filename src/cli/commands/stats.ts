import { stat } from 'node:fs/promises';
import { redact, type LlmClient } from '../../core/llm';
import { overviewFile, type OverviewFigures } from '../../core/overview';
import { overviewReport } from '../../core/overview/report';
import { atomicWrite } from '../../core/store/save';
import { fileStats, type DatasetStats } from '../../core/stats';
import {
  judgeTable1,
  SELF_ROUGE_SAMPLE,
  SELF_ROUGE_SEED,
  Table1Collector,
  type Table1Stats,
} from '../../core/stats/table1';
import { parseCommandArgs, usageError } from '../args';
import { positionOf, positionUnit } from '../../core/store/recordSource';
import { loadChatTokenizer, type ChatTokenizer } from '../../core/chat/tokenizer';
import { ChatTokenCollector, type ChatTokenStats } from '../../core/chat/stats';
import { entryNote } from '../../core/formats/entryMapping';
import { progress, type CliIO } from '../io';
import { clientFor, configFrom, ENDPOINT_OPTIONS } from './ask';

const HELP = `Usage: parrot stats [--json] [--no-tokens] [--html REPORT.html] [--threshold X] [--tokenizer DIR|o200k [--cutoff N] [--per-record]] [--judge] FILE...

Streams a JSONL or Parquet dataset and prints: records per format, invalid lines, turns per dialogue,
turns / characters / tokens per role (o200k_base tokenizer), duplicate ids and duplicate samples,
and the Parrot paper's Table 1 measures: user turns per session, context-dependent queries per
session (offline detector) and Self-ROUGE (100 x mean pairwise ROUGE-L F1 of a fixed-seed sample
of ${SELF_ROUGE_SAMPLE} user queries; lower = more diverse). Several files: also side by side.

With --json or --html, also the dataset overview (the figures the editor's Dataset Overview
shows): histograms of turns and tokens per record and per role with p50/p90/p99/max, problems by
rule, exact duplicates and near-duplicate clusters (MinHash/LSH) of user questions and dialogues.

Options:
  --json              print the figures as JSON (the overview under "overview")
  --html FILE         write a self-contained HTML report with the overview's charts
  --no-tokens         do not count tokens (reported as 0; several times faster)
  --no-dataset-info   read records as they are, not through the dataset_info.json entry (beside
                      FILE or a folder above) that renames their columns or roles
  --threshold X       similarity (0.5-1) from which records are near-duplicates (default 0.8)
  --tokenizer DIR     also count tokens of each record rendered through a model's chat template:
                      DIR is a model folder (tokenizer.json + tokenizer_config.json with its
                      chat_template, as Hugging Face ships them), or o200k (built-in ChatML layout)
  --cutoff N          with --tokenizer: the training length (LLaMA-Factory cutoff_len, TRL
                      max_length); counts and lists the records over it and what truncation cuts
  --per-record        with --tokenizer, one FILE: print only LINE<TAB>TOKENS per record (1-based
                      line of the record, tokens of the record through the chat template without a
                      generation prompt; a preference pair: its longer side)
  --judge             also count context-dependent queries with an LLM judge, as the paper does
                      (one request per user query after the first, of a fixed-seed sample)
  --judge-model NAME  the judge model (default: the answer model)
  --judge-sample N    sessions judged per file (default 200; 0 = all)
  -h, --help          show this help

With --judge, the endpoint options of parrot ask apply (--base-url, --api-key-env, ...).

Exit status: 0 all lines valid, 1 some lines are invalid, 2 usage or I/O error.
`;

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map(
      (r) =>
        '  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  '),
    )
    .join('\n');
}

export function formatStats(file: string, s: DatasetStats): string {
  const out: string[] = [];
  const unit = positionUnit(file);
  out.push(
    `${file}: ${s.records} record(s) in ${s.lines} ${unit}(s) (${s.dialogues} dialogue(s), ${s.preferencePairs} preference pair(s))`,
  );
  if (s.datasetInfo) out.push(entryNote(s.datasetInfo.entry, s.datasetInfo.file));
  out.push(
    `formats: ${
      Object.entries(s.formats)
        .map(([f, n]) => `${f} ${n}`)
        .join(', ') || 'none'
    }`,
  );
  out.push(`invalid ${unit}s: ${s.invalid.count}${s.blankLines ? `; blank lines: ${s.blankLines}` : ''}`);
  for (const e of s.invalid.examples.slice(0, 10))
    out.push(`  ${positionOf(file, unit, e.line, e.column)}: ${e.message}`);
  const hist = Object.entries(s.turnsHistogram)
    .map(([k, v]) => [Number(k), v] as const)
    .sort((a, b) => a[0] - b[0]);
  if (hist.length) {
    const total = hist.reduce((a, [k, v]) => a + k * v, 0);
    const n = hist.reduce((a, [, v]) => a + v, 0);
    out.push(
      `turns per record: mean ${(total / n).toFixed(2)}, min ${hist[0]?.[0]}, max ${hist[hist.length - 1]?.[0]}`,
    );
    out.push(table([['turns', 'records'], ...hist.map(([k, v]) => [String(k), String(v)])]));
  }
  const roles = Object.entries(s.roles).sort((a, b) => b[1].turns - a[1].turns);
  if (roles.length) {
    out.push(`per role (tokens: ${s.tokenizer}):`);
    out.push(
      table([
        ['role', 'turns', 'chars', 'tokens', 'tokens/turn'],
        ...roles.map(([r, v]) => [
          r,
          String(v.turns),
          String(v.chars),
          String(v.tokens),
          (v.tokens / v.turns).toFixed(1),
        ]),
      ]),
    );
  }
  out.push(`duplicates: ${s.duplicates.ids} repeated id(s), ${s.duplicates.samples} repeated sample(s)`);
  for (const d of s.duplicates.idExamples.slice(0, 5))
    out.push(`  id ${d.id}: ${unit} ${d.line} (first on ${unit} ${d.firstLine})`);
  return out.join('\n') + '\n';
}

export async function statsCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(
    'stats',
    args,
    {
      ...ENDPOINT_OPTIONS,
      json: { type: 'boolean' },
      'no-tokens': { type: 'boolean' },
      'no-dataset-info': { type: 'boolean' },
      html: { type: 'string' },
      threshold: { type: 'string' },
      judge: { type: 'boolean' },
      'judge-model': { type: 'string' },
      'judge-sample': { type: 'string' },
      tokenizer: { type: 'string' },
      cutoff: { type: 'string' },
      'per-record': { type: 'boolean' },
    } as const,
    HELP,
    io,
  );
  if (typeof parsed === 'number') return parsed;
  if (parsed.positionals.length === 0) return usageError('stats', 'at least one FILE is needed', io);
  const judging = parsed.values.judge === true || parsed.values['judge-model'] !== undefined;
  const sample = parsed.values['judge-sample'] !== undefined ? Number(parsed.values['judge-sample']) : 200;
  if (!Number.isInteger(sample) || sample < 0)
    return usageError('stats', '--judge-sample must be a whole number >= 0', io);
  let judge: { client: LlmClient; model: string; concurrency: number; key?: string } | undefined;
  if (judging) {
    try {
      const { config } = configFrom(parsed.values);
      judge = {
        client: clientFor(config, io),
        model: parsed.values['judge-model'] ?? config.models.answerer,
        concurrency: config.concurrency,
        key: config.apiKey,
      };
    } catch (e) {
      return usageError('stats', e instanceof Error ? e.message : String(e), io);
    }
  }
  const v = parsed.values;
  if ((v.cutoff !== undefined || v['per-record']) && v.tokenizer === undefined)
    return usageError('stats', '--cutoff and --per-record need --tokenizer', io);
  if (v['per-record'] && (parsed.positionals.length > 1 || v.json))
    return usageError('stats', '--per-record takes one FILE and no --json', io);
  let cutoff: number | undefined;
  if (v.cutoff !== undefined) {
    cutoff = /^\d+$/.test(v.cutoff) ? Number(v.cutoff) : NaN;
    if (!(cutoff >= 1))
      return usageError('stats', `--cutoff must be a whole number above 0, not "${v.cutoff}"`, io);
  }
  let tok: ChatTokenizer | undefined;
  if (v.tokenizer !== undefined) {
    try {
      tok = loadChatTokenizer(v.tokenizer);
    } catch (e) {
      io.stderr.write(`parrot stats: --tokenizer: ${e instanceof Error ? e.message : String(e)}\n`);
      return 2;
    }
  }

  const threshold = parsed.values.threshold === undefined ? undefined : Number(parsed.values.threshold);
  if (threshold !== undefined && !(threshold >= 0.5 && threshold <= 1))
    return usageError('stats', '--threshold must be a number from 0.5 to 1', io);
  const wantOverview = (parsed.values.json === true || parsed.values.html !== undefined) && !v['per-record'];
  const results: {
    file: string;
    s: DatasetStats;
    t1: Table1Stats;
    chat?: ChatTokenStats;
    overview?: OverviewFigures;
  }[] = [];
  for (const file of parsed.positionals) {
    const bar = progress(io);
    const t1 = new Table1Collector(undefined, judge ? sample || Number.MAX_SAFE_INTEGER : 0);
    const chat = tok
      ? new ChatTokenCollector(
          tok,
          cutoff,
          v['per-record'] ? (r) => io.stdout.write(`${r.line}\t${r.tokens}\n`) : undefined,
        )
      : undefined;
    let s: DatasetStats;
    try {
      const size = (await stat(file)).size;
      s = await fileStats(
        file,
        (bytes) => bar.update(`${file}: ${size ? Math.round((bytes / size) * 100) : 100}%`),
        {
          tokens: parsed.values['no-tokens'] !== true,
          datasetInfo: parsed.values['no-dataset-info'] !== true,
          table1: v['per-record'] ? undefined : t1,
          onLine: chat ? (line) => !line.encoding && chat.addLine(line.text, line.line) : undefined,
        },
      );
    } catch (e) {
      bar.done();
      io.stderr.write(`parrot stats: ${e instanceof Error ? e.message : String(e)}\n`);
      return 2;
    }
    let overview: OverviewFigures | undefined;
    if (wantOverview) {
      try {
        const size = (await stat(file)).size;
        overview = (
          await overviewFile(file, {
            threshold,
            datasetInfo: parsed.values['no-dataset-info'] !== true,
            onProgress: (done) =>
              bar.update(`${file}: overview ${size ? Math.round((done / size) * 100) : 100}%`),
          })
        ).figures;
      } catch (e) {
        bar.done();
        io.stderr.write(`parrot stats: ${e instanceof Error ? e.message : String(e)}\n`);
        return 2;
      }
    }
    bar.done();
    const t = t1.result();
    if (judge) {
      const jbar = progress(io);
      try {
        t.judged = await judgeTable1(judge.client, t1.judgeSample, {
          model: judge.model,
          concurrency: judge.concurrency,
          onProgress: (done, total) => jbar.update(`${file}: judged ${done}/${total} queries`),
        });
      } catch (e) {
        jbar.done();
        io.stderr.write(`parrot stats: ${redact(e instanceof Error ? e.message : String(e), [judge.key])}\n`);
        return 1;
      } finally {
        jbar.done();
      }
    }
    results.push({ file, s, t1: t, ...(chat ? { chat: chat.result() } : {}), overview });
  }
  if (v['per-record']) {
    for (const r of results)
      for (const f of r.chat?.failed.examples ?? []) io.stderr.write(`${r.file}:${f.line}: ${f.message}\n`);
    return results.some((r) => r.s.invalid.count > 0 || (r.chat?.failed.count ?? 0) > 0) ? 1 : 0;
  }
  if (parsed.values.html !== undefined) {
    const html = overviewReport(
      results.map((r) => ({ file: r.file, figures: r.overview as OverviewFigures })),
    );
    try {
      await atomicWrite(parsed.values.html, 0o644, undefined, (fh) => fh.writeFile(html));
    } catch (e) {
      io.stderr.write(`parrot stats: ${e instanceof Error ? e.message : String(e)}\n`);
      return 2;
    }
  }
  if (parsed.values.json) {
    const objs = results.map((r) => ({
      file: r.file,
      ...r.s,
      table1: r.t1,
      ...(r.chat ? { templateTokens: r.chat } : {}),
      overview: r.overview,
    }));
    io.stdout.write(JSON.stringify(objs.length === 1 ? objs[0] : objs, null, 2) + '\n');
  } else {
    for (const r of results)
      io.stdout.write(
        formatStats(r.file, r.s) + formatTable1(r.t1) + (r.chat ? formatChatTokens(r.file, r.chat) : ''),
      );
    if (results.length > 1) io.stdout.write(sideBySide(results.map((r) => ({ file: r.file, t: r.t1 }))));
  }
  return results.some((r) => r.s.invalid.count > 0) ? 1 : 0;
}

/** Tokens through the chat template, and what the cutoff does. */
export function formatChatTokens(file: string, c: ChatTokenStats): string {
  const out: string[] = [];
  const n = (x: number | null): string => (x === null ? '-' : String(x));
  out.push(
    `tokens through the chat template (${c.tokenizer}): ${c.records} record(s), total ${c.total}, mean ${c.mean === null ? '-' : c.mean.toFixed(1)}, p50 ${n(c.p50)}, p90 ${n(c.p90)}, p99 ${n(c.p99)}, max ${n(c.max)}`,
  );
  const roles = Object.entries(c.roles).sort((a, b) => b[1] - a[1]);
  if (roles.length) out.push(`  per role: ${roles.map(([r, t]) => `${r} ${t}`).join(', ')}`);
  if (c.failed.count) {
    out.push(`  not rendered by the template: ${c.failed.count}`);
    for (const f of c.failed.examples.slice(0, 5)) out.push(`  ${file}:${f.line}: ${f.message}`);
  }
  if (c.cutoff) {
    const k = c.cutoff.findings;
    out.push(
      `cutoff ${c.cutoff.length}: ${c.cutoff.over} record(s) over it; last assistant turn cut: ${k['assistant-cut']}, prompt alone over the cutoff: ${k['prompt-over']}, pairs identical after truncation: ${k['pair-identical']}, pairs empty after truncation: ${k['pair-empty']}`,
    );
    if (c.cutoff.over)
      out.push(
        `  over: line ${c.cutoff.overLines.slice(0, 20).join(', ')}${c.cutoff.over > 20 ? `, … (${c.cutoff.over - 20} more; --json lists ${Math.min(1000, c.cutoff.over)})` : ''}`,
      );
  }
  return out.join('\n') + '\n';
}

function fmt1(x: number | null, digits: number): string {
  return x === null ? '-' : x.toFixed(digits);
}

/** The paper's Table 1 measures of one file. */
export function formatTable1(t: Table1Stats): string {
  return (
    `table 1: ${fmt1(t.turnsPerSession, 2)} turn(s)/session, ${fmt1(t.contextDependentPerSession, 2)} context-dependent quer(y/ies)/session (offline detector), ` +
    `Self-ROUGE ${fmt1(t.selfRouge, 2)} (${t.selfRougeSample} of ${t.queries} user queries, seed ${SELF_ROUGE_SEED}; lower = more diverse)\n` +
    (t.judged
      ? `table 1 (LLM judge ${t.judged.model}): ${fmt1(t.judged.contextDependentPerSession, 2)} context-dependent quer(y/ies)/session over ${t.judged.sessions} session(s) (${t.judged.queries} queries judged, ${t.judged.unreadable} unreadable verdict(s), ${t.judged.requests} request(s))\n`
      : '')
  );
}

function sideBySide(rows: { file: string; t: Table1Stats }[]): string {
  return (
    '\n' +
    table([
      ['file', 'sessions', 'turns/session', 'context-dep./session', 'Self-ROUGE'],
      ...rows.map((r) => [
        r.file,
        String(r.t.sessions),
        fmt1(r.t.turnsPerSession, 2),
        fmt1(r.t.contextDependentPerSession, 2),
        fmt1(r.t.selfRouge, 2),
      ]),
    ]) +
    '\n'
  );
}
