import { FORMAT_IDS, isFormatId } from '../../core/formats';
import { convertFile, convertSummary, skipsInvalid } from '../../core/formats/convertFile';
import { entryNote } from '../../core/formats/entryMapping';
import type { FileLine } from '../../core/stats';
import { parseCommandArgs, usageError } from '../args';
import { progress, type CliIO } from '../io';

const HELP = `Usage: parrot convert --to FORMAT [-o OUT] [options] FILE

Converts a dataset (JSONL, a JSON array .json, or Parquet) to another format, record by record
(each record's own format is detected). Writes JSONL to stdout, or atomically to OUT (temp file +
rename): a JSON array when OUT ends in .json, Parquet when it ends in .parquet (schema inferred from
the records: objects as structs, arrays as lists), JSONL otherwise. What the target format cannot
hold is reported on stderr as FILE:LINE: lost: ... (FILE:row N for Parquet input), followed by a
summary.

Lines that are not valid records (bad JSON, unknown format, a dialogue where a preference pair is
needed) are reported as FILE:LINE:COL: error: ... and copied to the output unchanged, so no line is
lost and line numbers still match; use --skip-invalid to leave them out instead. A JSON array or
Parquet OUT cannot hold invalid records: they are always left out there (and reported).
Records already in the target format are copied byte for byte (from a JSON array to JSONL: with the
whitespace between their tokens removed). Blank lines are left out.
Unpaired preference (KTO) records become pairs in a preference format: a desirable and an
undesirable record of the same prompt make one pair, written where the second one was; a record
with no counterpart is reported and copied unchanged at the end. A pair becomes two records in a
KTO format (chosen: label true, rejected: label false).

Options:
  --to FORMAT        target format: ${FORMAT_IDS.join(', ')}
  -o, --output OUT   write to OUT instead of stdout
  --from FORMAT      read every record as FORMAT instead of detecting it
  --keep-unknown     keep fields the target format does not define (default: drop and report)
  --skip-invalid     leave invalid lines out of the output (they are still reported)
  --no-dataset-info  read records as they are, not through the dataset_info.json entry
  -q, --quiet        print only the summary, not each loss
  -h, --help         show this help

Exit status: 0 converted, 1 some lines were invalid or could not be converted, 2 usage or I/O error.
`;

const OPTIONS = {
  to: { type: 'string' },
  output: { type: 'string', short: 'o' },
  from: { type: 'string' },
  'keep-unknown': { type: 'boolean' },
  'skip-invalid': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'no-dataset-info': { type: 'boolean' },
} as const;

/**
 * `keep` (used by `parrot export`) leaves out the lines it returns false for, before anything is
 * read of them; their reports and counts are the caller's.
 */
export async function convertCommand(
  args: string[],
  io: CliIO,
  keep?: (line: FileLine) => boolean,
): Promise<number> {
  const parsed = parseCommandArgs('convert', args, OPTIONS, HELP, io);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (!values.to) return usageError('convert', '--to FORMAT is required', io);
  const to = values.to;
  if (!isFormatId(to))
    return usageError('convert', `unknown format '${to}' (known: ${FORMAT_IDS.join(', ')})`, io);
  const from = values.from;
  if (from !== undefined && !isFormatId(from))
    return usageError('convert', `unknown format '${from}' (known: ${FORMAT_IDS.join(', ')})`, io);
  if (positionals.length !== 1) return usageError('convert', 'exactly one input FILE is needed', io);
  const file = positionals[0];
  const out = values.output;
  const skipInvalid = skipsInvalid(out, values['skip-invalid']);
  const bar = progress(io);
  let stats;
  try {
    stats = await convertFile(file, out ?? io.stdout, {
      to,
      ...(from !== undefined ? { from } : {}),
      keepUnknown: values['keep-unknown'] === true,
      skipInvalid,
      datasetInfo: values['no-dataset-info'] !== true,
      ...(keep ? { keep } : {}),
      progress: (l) => bar.update(`${file}: line ${l.line}`),
      report: (e) => {
        if (values.quiet && e.kind !== 'error') return;
        io.stderr.write(e.text + '\n');
      },
    });
  } catch (e) {
    bar.done();
    io.stderr.write(`parrot convert: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  bar.done();
  if (stats.datasetInfo)
    io.stderr.write(`${file}: ${entryNote(stats.datasetInfo.entry, stats.datasetInfo.infoPath)}\n`);
  io.stderr.write(convertSummary(file, to, stats, skipInvalid, out) + '\n');
  return stats.invalid > 0 ? 1 : 0;
}
