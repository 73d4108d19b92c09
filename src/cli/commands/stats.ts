import { stat } from 'node:fs/promises';
import { fileStats, type DatasetStats } from '../../core/stats';
import {
  SELF_ROUGE_SAMPLE,
  SELF_ROUGE_SEED,
  Table1Collector,
  type Table1Stats,
} from '../../core/stats/table1';
import { parseCommandArgs, usageError } from '../args';
import { loadChatTokenizer, type ChatTokenizer } from '../../core/chat/tokenizer';
import { ChatTokenCollector, type ChatTokenStats } from '../../core/chat/stats';
import { progress, type CliIO } from '../io';

const HELP = `Usage: parrot stats [--json] [--tokenizer DIR|o200k [--cutoff N] [--per-record]] FILE...

Streams a JSONL dataset and prints: records per format, invalid lines, turns per dialogue,
turns / characters / tokens per role (o200k_base tokenizer), duplicate ids and duplicate samples,
and the Parrot paper's Table 1 measures: user turns per session, context-dependent queries per
session (offline detector) and Self-ROUGE (100 x mean pairwise ROUGE-L F1 of a fixed-seed sample
of ${SELF_ROUGE_SAMPLE} user queries; lower = more diverse). Several files: also side by side.

Options:
  --json              print the figures as JSON
  --tokenizer DIR     also count tokens of each record rendered through a model's chat template:
                      DIR is a model folder (tokenizer.json + tokenizer_config.json with its
                      chat_template, as Hugging Face ships them), or o200k (built-in ChatML layout)
  --cutoff N          with --tokenizer: the training length (LLaMA-Factory cutoff_len, TRL
                      max_length); counts and lists the records over it and what truncation cuts
  --per-record        with --tokenizer, one FILE: print only LINE<TAB>TOKENS per record (1-based
                      line of the record, tokens of the record through the chat template without a
                      generation prompt; a preference pair: its longer side)
  -h, --help          show this help

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
  out.push(
    `${file}: ${s.records} record(s) in ${s.lines} line(s) (${s.dialogues} dialogue(s), ${s.preferencePairs} preference pair(s))`,
  );
  out.push(
    `formats: ${
      Object.entries(s.formats)
        .map(([f, n]) => `${f} ${n}`)
        .join(', ') || 'none'
    }`,
  );
  out.push(`invalid lines: ${s.invalid.count}${s.blankLines ? `; blank lines: ${s.blankLines}` : ''}`);
  for (const e of s.invalid.examples.slice(0, 10)) out.push(`  ${file}:${e.line}:${e.column}: ${e.message}`);
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
    out.push(`  id ${d.id}: line ${d.line} (first on line ${d.firstLine})`);
  return out.join('\n') + '\n';
}

export async function statsCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(
    'stats',
    args,
    {
      json: { type: 'boolean' },
      tokenizer: { type: 'string' },
      cutoff: { type: 'string' },
      'per-record': { type: 'boolean' },
    } as const,
    HELP,
    io,
  );
  if (typeof parsed === 'number') return parsed;
  if (parsed.positionals.length === 0) return usageError('stats', 'at least one FILE is needed', io);
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
  const results: { file: string; s: DatasetStats; t1: Table1Stats; chat?: ChatTokenStats }[] = [];
  for (const file of parsed.positionals) {
    const bar = progress(io);
    const t1 = new Table1Collector();
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
      s = await fileStats(file, (bytes, line) => {
        if (!v['per-record']) t1.addLine(line.text);
        if (chat && !line.encoding) chat.addLine(line.text, line.line);
        bar.update(`${file}: ${size ? Math.round((bytes / size) * 100) : 100}%`);
      });
    } catch (e) {
      bar.done();
      io.stderr.write(`parrot stats: ${e instanceof Error ? e.message : String(e)}\n`);
      return 2;
    }
    bar.done();
    results.push({ file, s, t1: t1.result(), ...(chat ? { chat: chat.result() } : {}) });
  }
  if (v['per-record']) {
    for (const r of results)
      for (const f of r.chat?.failed.examples ?? []) io.stderr.write(`${r.file}:${f.line}: ${f.message}\n`);
    return results.some((r) => r.s.invalid.count > 0 || (r.chat?.failed.count ?? 0) > 0) ? 1 : 0;
  }
  if (parsed.values.json) {
    const objs = results.map((r) => ({
      file: r.file,
      ...r.s,
      table1: r.t1,
      ...(r.chat ? { templateTokens: r.chat } : {}),
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
    `Self-ROUGE ${fmt1(t.selfRouge, 2)} (${t.selfRougeSample} of ${t.queries} user queries, seed ${SELF_ROUGE_SEED}; lower = more diverse)\n`
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
