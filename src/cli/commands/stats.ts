import { stat } from 'node:fs/promises';
import { fileStats, type DatasetStats } from '../../core/stats';
import { parseCommandArgs, usageError } from '../args';
import { progress, type CliIO } from '../io';

const HELP = `Usage: parrot stats [--json] FILE

Streams a JSONL dataset and prints: records per format, invalid lines, turns per dialogue,
turns / characters / tokens per role (o200k_base tokenizer), duplicate ids and duplicate samples.

Options:
  --json       print the figures as JSON
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
  const parsed = parseCommandArgs('stats', args, { json: { type: 'boolean' } } as const, HELP, io);
  if (typeof parsed === 'number') return parsed;
  if (parsed.positionals.length !== 1) return usageError('stats', 'exactly one FILE is needed', io);
  const file = parsed.positionals[0];
  const bar = progress(io);
  let s: DatasetStats;
  try {
    const size = (await stat(file)).size;
    s = await fileStats(file, (bytes) =>
      bar.update(`${file}: ${size ? Math.round((bytes / size) * 100) : 100}%`),
    );
  } catch (e) {
    bar.done();
    io.stderr.write(`parrot stats: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  bar.done();
  io.stdout.write(parsed.values.json ? JSON.stringify({ file, ...s }, null, 2) + '\n' : formatStats(file, s));
  return s.invalid.count > 0 ? 1 : 0;
}
