import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  ASKER_FORMATS,
  askTemplate,
  exportAskerData,
  formatMasks,
  llamaFactoryV1Entry,
  parseQuestionSelection,
  type AskerDataOptions,
  type AskerFormat,
} from '../../core/parrot';
import { entryMappingFor } from '../../core/formats/entryMapping';
import { parseCommandArgs, usageError } from '../args';
import type { CliIO } from '../io';
import { DATASET_INFO_HELP, DATASET_INFO_OPTIONS } from './ask';

const HELP = `Usage: parrot asker-data FILE -o OUT [--format openai|llamafactory-v1|sharegpt|trl] [options]

Writes the Parrot-Ask training set: the dialogues of FILE with the roles reversed (the model plays
the user), the asker system prompt first, the loss on the user questions only. The layout is the
request 'parrot-ask' mode sends, so a model trained on OUT can be served as the asker at once.

One sample per dialogue (openai, llamafactory-v1, sharegpt); one sample per trained question (trl,
prompt-completion). Records that give no sample are listed on stderr as FILE:LINE: skipped: reason.

Options:
  -o, --output OUT       the training set (written atomically)
  --format F             openai (weight 0/1 on each assistant message, default) | llamafactory-v1
                         (loss_weight; also writes dataset_info.yaml beside OUT) | sharegpt
                         (from/value, no per-turn mask) | trl (prompt/completion)
  --questions SPEC       questions trained on: all (default), last, N, N-M or N- (1-based)
  --seed                 train on the first question too (never asked for at inference)
  --min-questions N      skip dialogues with fewer user questions (default 2)
  --template FILE        the asker system prompt, if you serve the asker with your own
  --dataset-name NAME    name of the LLaMA-Factory dataset entry (default: OUT's base name)
${DATASET_INFO_HELP}  -h, --help             show this help

Exit status: 0 written, 1 no sample written, 2 usage or input error.
`;

export async function askerDataCommand(args: string[], io: CliIO): Promise<number> {
  const p = parseCommandArgs(
    'asker-data',
    args,
    {
      output: { type: 'string', short: 'o' },
      format: { type: 'string' },
      questions: { type: 'string' },
      seed: { type: 'boolean' },
      'min-questions': { type: 'string' },
      template: { type: 'string' },
      'dataset-name': { type: 'string' },
      ...DATASET_INFO_OPTIONS,
    } as const,
    HELP,
    io,
  );
  if (typeof p === 'number') return p;
  const v = p.values;
  if (p.positionals.length !== 1) return usageError('asker-data', 'exactly one FILE is needed', io);
  if (!v.output) return usageError('asker-data', '-o OUT is required', io);
  const format = (v.format ?? 'openai') as AskerFormat;
  if (!ASKER_FORMATS.includes(format))
    return usageError(
      'asker-data',
      `--format must be one of ${ASKER_FORMATS.join(', ')} (got '${format}')`,
      io,
    );
  const file = p.positionals[0];
  const out = v.output;
  let opts: AskerDataOptions;
  try {
    const min = v['min-questions'] !== undefined ? Number(v['min-questions']) : 2;
    if (!Number.isInteger(min) || min < 1)
      throw new Error(`--min-questions must be a whole number >= 1 (got '${v['min-questions']}')`);
    opts = {
      template: askTemplate('parrot-ask', v.template),
      includeSeed: v.seed === true,
      questions: parseQuestionSelection(v.questions ?? 'all'),
      minQuestions: min,
    };
  } catch (e) {
    return usageError('asker-data', e instanceof Error ? e.message : String(e), io);
  }
  if (!formatMasks(format) && (!opts.includeSeed || opts.questions.kind !== 'all'))
    io.stderr.write(
      `parrot asker-data: note: sharegpt has no per-turn loss mask — trainers learn every asker turn, including those --seed/--questions leave out; use openai, llamafactory-v1 or trl for exact masking\n`,
    );
  let r;
  try {
    const mapping = v['no-dataset-info'] === true ? undefined : await entryMappingFor(file);
    r = await exportAskerData(file, out, format, opts, undefined, mapping);
  } catch (e) {
    io.stderr.write(`parrot asker-data: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  for (const s of r.skipped) io.stderr.write(`${file}:${s.line}: skipped: ${s.reason}\n`);
  if (format === 'llamafactory-v1') {
    const info = path.join(path.dirname(out), 'dataset_info.yaml');
    const name = v['dataset-name'] ?? path.basename(out).replace(/\.jsonl?$/i, '');
    const entry = llamaFactoryV1Entry(name, path.basename(out));
    if (existsSync(info))
      io.stderr.write(`parrot asker-data: ${info} exists and is left as it is; add this entry:\n${entry}`);
    else writeFileSync(info, entry);
  }
  io.stderr.write(
    `parrot asker-data: ${r.samples} of ${r.dialogues} dialogues → ${r.lines} ${format} samples in ${out}; ${r.skipped.length} records skipped\n`,
  );
  return r.lines > 0 ? 0 : 1;
}
