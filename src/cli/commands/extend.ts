import { createReadStream, existsSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { newLayout, parseRecord, recordToLine } from '../../core/formats';
import { redact, type LlmConfig } from '../../core/llm';
import type { Dialogue } from '../../core/model';
import {
  addToEstimate,
  extend,
  extendMtBench,
  isPlainSeedFile,
  newEstimate,
  SEED_FORMATS,
  seedFromSample,
  seedFromText,
  type SeedFormat,
  type ExtendResult,
  type ExtendSettings,
  type SlotResult,
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
  extendSettingsFrom,
  readRecords,
  type InputRecord,
} from './ask';

const HELP = `Usage: parrot extend --turns N -o OUT [options] FILE
       parrot extend --seeds --turns N -o OUT [--format F] SEEDS

Grows every dialogue of FILE to N user questions (each answered): ask -> answer -> ask ...
"Turns" counts user questions (exchanges). MT-Bench question records (question_id/category/turns)
are extended to N questions (MT-Bench++ uses 8); answers are generated for context only.
Records are written to OUT in input order as they complete, in their own format.

With --seeds (implied for a .txt file), each record is a seed question that grows into a new
N-question dialogue: a line of a .txt file (one question per line), the first question of an
MT-Bench record, or the first user turn of a record of any format (with its system prompt and id).

Options:
  --turns N              target number of user questions per record (required)
  -o, --output OUT       output JSONL file (required)
  --resume               continue an interrupted run (progress in OUT.progress.json): keep OUT's
                         finished records, retry those that were short, do the rest
  --estimate             print the requests and approximate tokens it will take, and stop
  --seeds                start each dialogue from the record's first user question only
  --format F             the new dialogues' format with --seeds: sharegpt (default), openai,
                         llamafactory-v1
${DATASET_INFO_HELP}  -h, --help             show this help

${ENDPOINT_HELP}
Ctrl+C stops: records already written stay, run again with --resume to continue.
Exit status: 0 all records extended, 1 some failed or the run was cancelled, 2 usage or input error.
`;

export async function extendCommand(args: string[], io: CliIO): Promise<number> {
  const p = parseCommandArgs(
    'extend',
    args,
    {
      ...ENDPOINT_OPTIONS,
      ...DATASET_INFO_OPTIONS,
      turns: { type: 'string' },
      output: { type: 'string', short: 'o' },
      resume: { type: 'boolean' },
      estimate: { type: 'boolean' },
      seeds: { type: 'boolean' },
      format: { type: 'string' },
    } as const,
    HELP,
    io,
  );
  if (typeof p === 'number') return p;
  if (p.positionals.length !== 1) return usageError('extend', 'exactly one FILE is needed', io);
  const file = p.positionals[0];
  const turns = Number(p.values.turns);
  if (p.values.turns === undefined || !Number.isInteger(turns) || turns < 1)
    return usageError('extend', '--turns N (a whole number >= 1) is required', io);
  const out = p.values.output;
  if (!out && !p.values.estimate) return usageError('extend', '-o OUT is required', io);
  const seeds = p.values.seeds === true || isPlainSeedFile(file);
  const seedFormat = (p.values.format ?? 'sharegpt') as SeedFormat;
  if (p.values.format !== undefined && !seeds)
    return usageError('extend', '--format is for --seeds (records are written in their own format)', io);
  if (!(SEED_FORMATS as readonly string[]).includes(seedFormat))
    return usageError('extend', `--format must be one of ${SEED_FORMATS.join(', ')}`, io);
  const datasetInfo = p.values['no-dataset-info'] !== true;
  const source = (): AsyncIterable<InputRecord> =>
    seeds ? seedRecords(file, seedFormat, datasetInfo) : readRecords(file, datasetInfo);
  let config: LlmConfig;
  let settings: ExtendSettings;
  try {
    const c = configFrom(p.values);
    config = c.config;
    if (c.keyNote && !p.values.estimate) io.stderr.write(`parrot extend: note: ${c.keyNote}\n`);
    settings = extendSettingsFrom(p.values, config);
  } catch (e) {
    return usageError('extend', e instanceof Error ? e.message : String(e), io);
  }

  const check = (r: InputRecord): void => {
    if (r.layout.format !== 'mt-bench') asDialogue(r, file, 'extend');
  };
  const forEstimate = (r: InputRecord): Dialogue =>
    r.layout.format === 'mt-bench'
      ? { ...(r.sample as Dialogue), turns: mtDialogueTurns(r.sample as Dialogue) }
      : (r.sample as Dialogue);
  if (p.values.estimate) {
    // Streamed: a file of any size is estimated in constant memory.
    const e = newEstimate();
    try {
      for await (const r of source()) {
        check(r);
        addToEstimate(e, forEstimate(r), turns, settings);
      }
    } catch (err) {
      io.stderr.write(`parrot extend: ${err instanceof Error ? err.message : String(err)}\n`);
      return 2;
    }
    io.stdout.write(
      `${e.records} record(s), ${e.unchanged} already long enough\n${e.requests} request(s): ${e.askRequests} ask (n=${settings.ask.n}), ${e.answerRequests} answer\n~${e.promptTokens} prompt token(s), ~${e.completionTokens} completion token(s) (o200k_base estimate)\n`,
    );
    return 0;
  }
  const records = await readAllRecords('extend', file, io, check, source());
  if (typeof records === 'number') return records;
  const outFile = out as string;
  if (!p.values.resume && existsSync(outFile))
    return usageError('extend', `${outFile} exists — use --resume to continue it, or choose another -o`, io);
  const say = (m: string): boolean => io.stderr.write(`parrot extend: ${redact(m, [config.apiKey])}\n`);
  const output = await openRun(
    {
      out: outFile,
      input: path.resolve(file),
      keep: { turns: String(turns), seeds: seeds ? seedFormat : '' },
      resume: p.values.resume === true,
    },
    records.length,
    say,
    { unit: 'record(s)', input: file, redo: 'retrying {n} that were short' },
  );
  if (!output) return 2;
  const retry = [...output.failed];

  const client = clientFor(config, io);
  const stop = interruptible('extend', io);
  const bar = progress(io);
  let cancelled = false;
  let done = 0;
  /** One record, extended from `from` (what an earlier run kept of it, else the input). */
  const work = async (slot: number, from?: Dialogue): Promise<SlotResult | undefined> => {
    const r = records[slot];
    let dialogue: Dialogue;
    let status: ExtendResult['status'];
    let error: string | undefined;
    if (r.layout.format === 'mt-bench') {
      const q = { question_id: String(r.line), category: '', turns: mtQuestions(r.sample as Dialogue) };
      const m = await extendMtBench(client, q, settings, turns, { signal: stop.signal });
      dialogue = {
        ...(r.sample as Dialogue),
        turns: m.record.turns.map((t) => ({ role: 'user', content: t })),
      };
      ({ status, error } = m);
    } else {
      const x = await extend(client, from ?? (r.sample as Dialogue), turns, settings, {
        signal: stop.signal,
      });
      ({ dialogue, status, error } = x);
    }
    done++;
    bar.update(`extend: ${done}/${records.length - output.records + retry.length} record(s)`);
    if (status === 'cancelled') {
      cancelled = true;
      return undefined; // not written: --resume redoes it
    }
    return {
      lines: [recordToLine(dialogue, r.layout)],
      error: status === 'failed' ? (error ?? 'failed') : undefined,
    };
  };
  try {
    // Records an earlier run wrote short are continued from what they kept.
    await runSlots(output, records.length, {
      concurrency: config.concurrency,
      signal: stop.signal,
      work: (slot, kept) => {
        // (Written under the file's own names when its records were read through their entry.)
        const mapping = records[slot]?.layout.entry?.map;
        const prev = kept?.[0] !== undefined ? parseRecord(kept[0], undefined, { mapping }) : undefined;
        return work(slot, prev?.ok && prev.sample.kind === 'dialogue' ? prev.sample : undefined);
      },
    });
  } finally {
    stop.dispose();
    bar.done();
  }
  cancelled = cancelled || stop.signal.aborted;
  for (const f of output.failed) say(`${file}:${records[f.slot]?.line ?? f.slot + 1}: ${f.error}`);
  const short = output.failed.length;
  say(
    `${output.records}/${records.length} record(s) in ${outFile}${short ? `, ${short} short (kept with the turns that were finished; --resume retries them)` : ''}${cancelled ? ' — cancelled; run again with --resume' : ''}`,
  );
  return short || cancelled || output.records < records.length ? 1 : 0;
}

function mtQuestions(d: Dialogue): string[] {
  return d.turns
    .filter((t) => t.role === 'user')
    .map((t) => (typeof t.content === 'string' ? t.content : ''));
}

/** MT-Bench questions as a dialogue for estimates: questions alternate with (empty) answers. */
function mtDialogueTurns(d: Dialogue): Dialogue['turns'] {
  return mtQuestions(d).flatMap((q) => [
    { role: 'user' as const, content: q },
    { role: 'assistant' as const, content: '' },
  ]);
}

/** The seeds of `file` as new one-question dialogues in `format` (see core `seeds.ts`). */
async function* seedRecords(
  file: string,
  format: SeedFormat,
  datasetInfo: boolean,
): AsyncGenerator<InputRecord> {
  const layout = newLayout(format);
  if (isPlainSeedFile(file)) {
    const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    let line = 0;
    for await (const text of rl) {
      line++;
      const d = seedFromText(line === 1 ? text.replace(/^\uFEFF/, '') : text);
      if (d) yield { line, sample: d, layout, value: undefined };
    }
    return;
  }
  for await (const r of readRecords(file, datasetInfo)) {
    const d = seedFromSample(r.sample);
    if (!d) throw new Error(`${file}:${r.line}:1: the record has no user question to start from`);
    yield { line: r.line, sample: d, layout, value: undefined };
  }
}
