import { stat } from 'node:fs/promises';
import { fileStats, type DatasetStats } from '../../core/stats';
import {
  SELF_ROUGE_SAMPLE,
  SELF_ROUGE_SEED,
  Table1Collector,
  type Table1Stats,
} from '../../core/stats/table1';
import { parseCommandArgs, usageError } from '../args';
import { progress, type CliIO } from '../io';

const HELP = `Usage: parrot stats [--json] [--no-tokens] FILE...

Streams a JSONL dataset and prints: records per format, invalid lines, turns per dialogue,
turns / characters / tokens per role (o200k_base tokenizer), duplicate ids and duplicate samples,
and the Parrot paper's Table 1 measures: user turns per session, context-dependent queries per
session (offline detector) and Self-ROUGE (100 x mean pairwise ROUGE-L F1 of a fixed-seed sample
of ${SELF_ROUGE_SAMPLE} user queries; lower = more diverse). Several files: also side by side.

Options:
  --json       print the figures as JSON
  --no-tokens  do not count tokens (reported as 0; several times faster)
  -h, --help   show this help

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
    { json: { type: 'boolean' }, 'no-tokens': { type: 'boolean' } } as const,
    HELP,
    io,
  );
  if (typeof parsed === 'number') return parsed;
  if (parsed.positionals.length === 0) return usageError('stats', 'at least one FILE is needed', io);
  const results: { file: string; s: DatasetStats; t1: Table1Stats }[] = [];
  for (const file of parsed.positionals) {
    const bar = progress(io);
    const t1 = new Table1Collector();
    let s: DatasetStats;
    try {
      const size = (await stat(file)).size;
      s = await fileStats(
        file,
        (bytes, line) => {
          t1.addLine(line.text);
          bar.update(`${file}: ${size ? Math.round((bytes / size) * 100) : 100}%`);
        },
        { tokens: parsed.values['no-tokens'] !== true },
      );
    } catch (e) {
      bar.done();
      io.stderr.write(`parrot stats: ${e instanceof Error ? e.message : String(e)}\n`);
      return 2;
    }
    bar.done();
    results.push({ file, s, t1: t1.result() });
  }
  if (parsed.values.json) {
    const objs = results.map((r) => ({ file: r.file, ...r.s, table1: r.t1 }));
    io.stdout.write(JSON.stringify(objs.length === 1 ? objs[0] : objs, null, 2) + '\n');
  } else {
    for (const r of results) io.stdout.write(formatStats(r.file, r.s) + formatTable1(r.t1));
    if (results.length > 1) io.stdout.write(sideBySide(results.map((r) => ({ file: r.file, t: r.t1 }))));
  }
  return results.some((r) => r.s.invalid.count > 0) ? 1 : 0;
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
