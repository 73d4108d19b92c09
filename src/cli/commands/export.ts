import { detectFileFormat, FORMAT_IDS, isFormatId } from '../../core/formats';
import { recordIdentity, selects, type ExportSelection } from '../../core/review';
import { isBlankLine } from '../../core/stats';
import { readFileRecords } from '../../core/store/records';
import { parseCommandArgs, usageError } from '../args';
import type { CliIO } from '../io';
import { entryMappingFor, mapRecordText } from '../../core/formats/entryMapping';
import { convertCommand } from './convert';
import { loadReviewState } from './review';

const HELP = `Usage: parrot export (--accepted | --not-rejected) [--to FORMAT] [-o OUT] [options] FILE

Writes the reviewed records of FILE (decisions from FILE.review.jsonl): --accepted keeps only the
records accepted; --not-rejected keeps every record but the rejected ones (unreviewed and needs-work
included). Converts to --to FORMAT (default: the file's own format, records copied byte for byte)
with the same loss report as 'parrot convert'. A kept record whose text changed since it was
reviewed is reported as FILE:LINE: warning: .... Writes to stdout, or atomically to OUT.

Options:
  --accepted         keep the accepted records
  --not-rejected     keep every record that is not rejected
  --to FORMAT        target format: ${FORMAT_IDS.join(', ')}
  -o, --output OUT   write to OUT instead of stdout
  --keep-unknown     keep fields the target format does not define (default: drop and report)
  --skip-invalid     leave invalid lines out of the output (they are still reported)
  --no-dataset-info  read records as they are, not through the dataset_info.json entry
  -q, --quiet        print only the summary, not each loss
  -h, --help         show this help

Exit status: 0 exported, 1 some kept lines were invalid or could not be converted, 2 usage or I/O error.
`;

const OPTIONS = {
  accepted: { type: 'boolean' },
  'not-rejected': { type: 'boolean' },
  to: { type: 'string' },
  output: { type: 'string', short: 'o' },
  'keep-unknown': { type: 'boolean' },
  'skip-invalid': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'no-dataset-info': { type: 'boolean' },
} as const;

async function fileFormat(file: string, datasetInfo: boolean): Promise<string | undefined> {
  const lines: string[] = [];
  const mapping = datasetInfo ? await entryMappingFor(file) : undefined;
  for await (const l of readFileRecords(file)) {
    if (l.encoding) continue;
    if (!isBlankLine(l.text)) lines.push(mapping ? mapRecordText(l.text, mapping) : l.text);
    if (lines.length >= 200) break;
  }
  return detectFileFormat(lines).format;
}

export async function exportCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs('export', args, OPTIONS, HELP, io);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (values.accepted === values['not-rejected'])
    return usageError('export', 'say which records to keep: --accepted or --not-rejected', io);
  const selection: ExportSelection = values.accepted ? 'accepted' : 'not-rejected';
  if (positionals.length !== 1) return usageError('export', 'exactly one input FILE is needed', io);
  const file = positionals[0];
  if (values.to !== undefined && !isFormatId(values.to))
    return usageError('export', `unknown format '${values.to}' (known: ${FORMAT_IDS.join(', ')})`, io);
  let to: string | undefined;
  let state: Awaited<ReturnType<typeof loadReviewState>>['state'];
  try {
    to = values.to ?? (await fileFormat(file, values['no-dataset-info'] !== true));
    state = (await loadReviewState(file, io)).state;
  } catch (e) {
    io.stderr.write(`parrot export: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  if (!to) return usageError('export', `no record of ${file} is in a known format: give --to FORMAT`, io);
  const convertArgs = ['--to', to];
  if (values.output !== undefined) convertArgs.push('-o', values.output);
  for (const flag of ['keep-unknown', 'skip-invalid', 'quiet', 'no-dataset-info'] as const)
    if (values[flag]) convertArgs.push(`--${flag}`);
  convertArgs.push(file);
  let kept = 0;
  let total = 0;
  const code = await convertCommand(convertArgs, io, (l) => {
    total++;
    const e = state.effective(recordIdentity(l.text));
    if (!selects(selection, e.status)) return false;
    kept++;
    if (e.changed)
      io.stderr.write(`${file}:${l.line}: warning: ${e.status}, but changed since it was reviewed\n`);
    if (e.conflicts.length)
      io.stderr.write(
        `${file}:${l.line}: warning: ${e.status} by ${e.decision?.reviewer ?? '?'}, but ${e.conflicts.map((c) => `${c.reviewer} said ${c.status}`).join(', ')}\n`,
      );
    return true;
  });
  if (code !== 2)
    io.stderr.write(
      `${file}: exported ${kept} of ${total} record(s) (${selection === 'accepted' ? 'accepted' : 'not rejected'})\n`,
    );
  return code;
}
