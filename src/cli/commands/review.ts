import {
  describeCounts,
  readSidecarOf,
  readSideProvenance,
  recordIdentity,
  ReviewState,
  ReviewStatsCollector,
  sidecarPath,
  type ParsedSidecar,
  type ReviewStats,
} from '../../core/review';
import { isBlankLine } from '../../core/stats';
import { readFileRecords } from '../../core/store/records';
import { parseCommandArgs, usageError } from '../args';
import { progress, type CliIO } from '../io';

const HELP = `Usage: parrot review stats [--json] FILE

Reads the review decisions of FILE (JSONL, a JSON array or Parquet) from its sidecar
(FILE.review.jsonl, beside it) and prints:
records by status (accepted / rejected / needs work / unreviewed), records whose text changed since
they were reviewed, conflicting decisions of two reviewers, decisions that match no record any more,
and the decisions on generated data (records and turns with provenance) by strategy and by model.
The provenance of openai-preference pairs is read from FILE.provenance.jsonl (one line per record,
in order). The dataset is only read.

Options:
  --json       print the figures as JSON
  -h, --help   show this help

Exit status: 0 done, 1 the sidecar has bad lines or conflicts, 2 usage or I/O error.
`;

const OPTIONS = { json: { type: 'boolean' } } as const;

/** The review state of `file` from its sidecar; bad sidecar lines are reported on stderr. */
export async function loadReviewState(
  file: string,
  io: CliIO,
): Promise<{ state: ReviewState; sidecar: ParsedSidecar }> {
  const sidecar = await readSidecarOf(file);
  const where = sidecarPath(file);
  for (const p of sidecar.problems)
    io.stderr.write(`${where}:${p.line}:1: error: ${p.message} (line skipped)\n`);
  return { state: new ReviewState(sidecar.decisions), sidecar };
}

export function formatReviewStats(file: string, s: ReviewStats): string {
  const out: string[] = [];
  const pct = s.records ? Math.round((s.reviewed / s.records) * 100) : 0;
  out.push(`${file}: ${s.reviewed}/${s.records} record(s) reviewed (${pct}%)`);
  out.push(
    `  accepted ${s.byStatus.accepted}, rejected ${s.byStatus.rejected}, needs work ${s.byStatus['needs-work']}, unreviewed ${s.byStatus.unreviewed}`,
  );
  if (s.turns.accepted + s.turns.rejected + s.turns['needs-work'])
    out.push(
      `  turn decisions: accepted ${s.turns.accepted}, rejected ${s.turns.rejected}, needs work ${s.turns['needs-work']}`,
    );
  if (s.changed) out.push(`  changed since review: ${s.changed}`);
  if (s.conflicts) out.push(`  conflicting decisions: ${s.conflicts}`);
  if (s.orphaned) out.push(`  decisions matching no record: ${s.orphaned}`);
  const strategies = Object.entries(s.byStrategy);
  if (strategies.length) {
    out.push('by strategy:');
    for (const [name, c] of strategies.sort()) out.push(`  ${describeCounts(name, c)}`);
  }
  const models = Object.entries(s.byModel);
  if (models.length) {
    out.push('by model:');
    for (const [name, c] of models.sort()) out.push(`  ${describeCounts(name, c)}`);
  }
  return out.join('\n') + '\n';
}

export async function reviewCommand(args: string[], io: CliIO): Promise<number> {
  if (args[0] !== 'stats') {
    if (args.includes('-h') || args.includes('--help')) {
      io.stdout.write(HELP);
      return 0;
    }
    return usageError('review', `unknown subcommand '${args[0] ?? ''}' (subcommands: stats)`, io);
  }
  const parsed = parseCommandArgs('review stats', args.slice(1), OPTIONS, HELP, io);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usageError('review stats', 'exactly one FILE is needed', io);
  const file = positionals[0];
  const bar = progress(io);
  let stats: ReviewStats;
  let problems = 0;
  try {
    const { state, sidecar } = await loadReviewState(file, io);
    problems = sidecar.problems.length;
    const c = new ReviewStatsCollector(state, await readSideProvenance(file));
    for await (const l of readFileRecords(file)) {
      bar.update(`${file}: line ${l.line}`);
      if (l.encoding?.wholeFile) throw new Error(`${file}:1:1: ${l.encoding.message}`);
      if (!l.encoding && isBlankLine(l.text)) continue;
      c.add(recordIdentity(l.text));
    }
    stats = c.result();
  } catch (e) {
    bar.done();
    io.stderr.write(`parrot review stats: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  bar.done();
  const m = stats.sideFileMismatch;
  if (m)
    io.stderr.write(
      `${m.path}: warning: ${m.lines} line(s) for ${m.records} record(s): its provenance cannot be matched to the records by position and is not counted\n`,
    );
  io.stdout.write(values.json ? JSON.stringify(stats, null, 2) + '\n' : formatReviewStats(file, stats));
  return problems || stats.conflicts ? 1 : 0;
}
