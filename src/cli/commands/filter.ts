import { readFileSync } from 'node:fs';
import {
  DEFAULT_QUESTION_FILTER,
  filterFile,
  formatRejection,
  parseWordList,
  type FilterFileResult,
  type QuestionFilter,
} from '../../core/parrot';
import type { LlmClient } from '../../core/llm';
import { parseCommandArgs, usageError } from '../args';
import { entryMappingFor } from '../../core/formats/entryMapping';
import { clientFor, configFrom, DATASET_INFO_HELP, DATASET_INFO_OPTIONS } from './ask';
import type { CliIO } from '../io';

const HELP = `Usage: parrot filter FILE -o OUT [--min-words N] [--max-overlap X] [--words FILE] [options]

Applies the Parrot-40K question filters to every dialogue of FILE. A rejected question is reported
as FILE:LINE: rejected: question K: reason, and the dialogue is cut just before it (its earlier
exchanges are kept); a dialogue whose first question is rejected is left out. Dialogues that pass,
and records that are not dialogues, are copied byte for byte. OUT is written atomically.

Filters (each rejection names the one that fired):
  too short      fewer than --min-words words (default ${DEFAULT_QUESTION_FILTER.minWords})
  repetitive     word-bigram overlap >= --max-overlap (default ${DEFAULT_QUESTION_FILTER.maxOverlap}) with an earlier
                 question of the dialogue, or with the question's own answer
  sensitive      contains a word or phrase of --words FILE (one a line, # comments)
  context-free   with --require-context: a question after the first that does not refer to the
                 earlier conversation (offline detector)

Options:
  -o, --output OUT       the filtered dataset
  --min-words N          see above
  --max-overlap X        see above (0 < X <= 1)
  --words FILE           sensitive word list
  --require-context      see above
  --drop                 leave out a dialogue with any rejected question instead of cutting it
  --rejected FILE        also write the original lines of cut or left-out records to FILE
  --moderation           also ask the endpoint's /v1/moderations (one request per dialogue); a
                         flagged question is sensitive. An endpoint without that route is an error.
  --base-url URL         endpoint for --moderation (default as for parrot ask, or PARROT_BASE_URL)
  --api-key-env NAME     environment variable holding its key (as for parrot ask)
${DATASET_INFO_HELP}  -h, --help             show this help

Exit status: 0 nothing rejected, 1 some questions rejected or lines invalid, 2 usage or I/O error.
`;

export async function filterCommand(args: string[], io: CliIO): Promise<number> {
  const p = parseCommandArgs(
    'filter',
    args,
    {
      output: { type: 'string', short: 'o' },
      'min-words': { type: 'string' },
      'max-overlap': { type: 'string' },
      words: { type: 'string' },
      'require-context': { type: 'boolean' },
      drop: { type: 'boolean' },
      rejected: { type: 'string' },
      moderation: { type: 'boolean' },
      'base-url': { type: 'string' },
      'api-key-env': { type: 'string' },
      ...DATASET_INFO_OPTIONS,
    } as const,
    HELP,
    io,
  );
  if (typeof p === 'number') return p;
  const v = p.values;
  if (p.positionals.length !== 1) return usageError('filter', 'exactly one FILE is needed', io);
  if (!v.output) return usageError('filter', '-o OUT is required', io);
  const file = p.positionals[0];
  const f: QuestionFilter = { ...DEFAULT_QUESTION_FILTER, requireContext: v['require-context'] === true };
  if (v['min-words'] !== undefined) {
    const n = Number(v['min-words']);
    if (!Number.isInteger(n) || n < 0)
      return usageError('filter', `--min-words must be a whole number >= 0 (got '${v['min-words']}')`, io);
    f.minWords = n;
  }
  if (v['max-overlap'] !== undefined) {
    const x = Number(v['max-overlap']);
    if (!Number.isFinite(x) || x <= 0 || x > 1)
      return usageError('filter', `--max-overlap must be a number in (0, 1] (got '${v['max-overlap']}')`, io);
    f.maxOverlap = x;
  }
  if (v.words !== undefined) {
    try {
      f.words = parseWordList(readFileSync(v.words, 'utf8'));
    } catch (e) {
      return usageError(
        'filter',
        `cannot read --words ${v.words}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
        io,
      );
    }
  }
  let moderate: ((qs: string[]) => Promise<string[][]>) | undefined;
  if (v.moderation) {
    let client: LlmClient;
    try {
      client = clientFor(
        configFrom({ 'base-url': v['base-url'], 'api-key-env': v['api-key-env'] }).config,
        io,
      );
    } catch (e) {
      return usageError('filter', e instanceof Error ? e.message : String(e), io);
    }
    moderate = async (qs) => {
      const r = await client.moderate(qs);
      if (!r) throw new Error(`the endpoint has no /v1/moderations route; run without --moderation`);
      return r;
    };
  }
  let r: FilterFileResult;
  try {
    const mapping = v['no-dataset-info'] === true ? undefined : await entryMappingFor(file);
    r = await filterFile(file, v.output, f, {
      drop: v.drop === true,
      rejectedOut: v.rejected,
      moderate,
      mapping,
    });
  } catch (e) {
    io.stderr.write(`parrot filter: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  for (const x of r.invalid)
    io.stderr.write(`${file}:${x.line}:${x.column}: error: ${x.message} (copied unchanged)\n`);
  for (const x of r.rejected) io.stderr.write(formatRejection(file, x) + '\n');
  const stats = { ...r, rejected: r.rejected.length, invalid: r.invalid.length };
  io.stderr.write(
    `parrot filter: ${stats.dialogues} dialogues: ${stats.passed} passed, ${stats.cut} cut, ${stats.dropped} left out; ${stats.rejected} questions rejected${stats.invalid ? `; ${stats.invalid} invalid lines copied unchanged` : ''}\n`,
  );
  return stats.rejected > 0 || stats.invalid > 0 ? 1 : 0;
}
