import { createReadStream, existsSync, promises as fsp } from 'node:fs';
import { recordToLine } from '../../core/formats';
import type { LlmConfig } from '../../core/llm';
import type { Dialogue } from '../../core/model';
import {
  estimate,
  extend,
  extendMany,
  extendMtBench,
  type ExtendResult,
  type ExtendSettings,
} from '../../core/parrot';
import { parseCommandArgs, usageError } from '../args';
import { interruptible, OrderedWriter, readAllRecords, runPool } from '../generation';
import { progress, type CliIO } from '../io';
import {
  asDialogue,
  clientFor,
  configFrom,
  ENDPOINT_HELP,
  ENDPOINT_OPTIONS,
  extendSettingsFrom,
} from './ask';

const HELP = `Usage: parrot extend --turns N -o OUT [options] FILE

Grows every dialogue of FILE to N user questions (each answered): ask -> answer -> ask ...
"Turns" counts user questions (exchanges). MT-Bench question records (question_id/category/turns)
are extended to N questions (MT-Bench++ uses 8); answers are generated for context only.
Records are written to OUT in input order as they complete, in their own format.

Options:
  --turns N              target number of user questions per record (required)
  -o, --output OUT       output JSONL file (required)
  --resume               continue an interrupted run: keep OUT's complete lines, skip those records
  --estimate             print the requests and approximate tokens it will take, and stop
  -h, --help             show this help

${ENDPOINT_HELP}
Ctrl+C stops: records already written stay, run again with --resume to continue.
Exit status: 0 all records extended, 1 some failed or the run was cancelled, 2 usage or input error.
`;

/** Number of complete lines in OUT; a torn last line (no newline) is cut off. */
export async function completeLines(out: string): Promise<number> {
  if (!existsSync(out)) return 0;
  let count = 0;
  let lastNl = -1;
  let pos = 0;
  for await (const chunk of createReadStream(out) as AsyncIterable<Buffer>) {
    let i = chunk.indexOf(10);
    while (i >= 0) {
      count++;
      lastNl = pos + i;
      i = chunk.indexOf(10, i + 1);
    }
    pos += chunk.length;
  }
  if (lastNl + 1 < pos) await fsp.truncate(out, lastNl + 1);
  return count;
}

export async function extendCommand(args: string[], io: CliIO): Promise<number> {
  const p = parseCommandArgs(
    'extend',
    args,
    {
      ...ENDPOINT_OPTIONS,
      turns: { type: 'string' },
      output: { type: 'string', short: 'o' },
      resume: { type: 'boolean' },
      estimate: { type: 'boolean' },
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

  const records = await readAllRecords('extend', file, io, (r) => {
    if (r.layout.format !== 'mt-bench') asDialogue(r, file, 'extend');
  });
  if (typeof records === 'number') return records;
  const asDialogues = (): Dialogue[] =>
    records.map((r) =>
      r.layout.format === 'mt-bench'
        ? { ...(r.sample as Dialogue), turns: mtDialogueTurns(r.sample as Dialogue) }
        : (r.sample as Dialogue),
    );
  if (p.values.estimate) {
    const e = estimate(asDialogues(), turns, settings);
    io.stdout.write(
      `${e.records} record(s), ${e.unchanged} already long enough\n${e.requests} request(s): ${e.askRequests} ask (n=${settings.ask.n}), ${e.answerRequests} answer\n~${e.promptTokens} prompt token(s), ~${e.completionTokens} completion token(s) (o200k_base estimate)\n`,
    );
    return 0;
  }
  const outFile = out as string;
  let skip = 0;
  if (p.values.resume) skip = await completeLines(outFile);
  else if (existsSync(outFile))
    return usageError('extend', `${outFile} exists — use --resume to continue it, or choose another -o`, io);
  if (skip > records.length) {
    io.stderr.write(
      `parrot extend: ${outFile} has ${skip} lines but ${file} has only ${records.length} records — is it the right file?\n`,
    );
    return 2;
  }
  if (skip) io.stderr.write(`parrot extend: resuming after ${skip} record(s) already in ${outFile}\n`);

  const client = clientFor(config, io);
  const fh = await fsp.open(outFile, 'a');
  const writer = new OrderedWriter(fh);
  const stop = interruptible('extend', io);
  const bar = progress(io);
  const todo = records.slice(skip);
  const failures: string[] = [];
  let cancelled = false;
  try {
    const items = todo.map((r, i) => ({ index: i, dialogue: r.sample as Dialogue }));
    const onResult = async (
      i: number,
      res: ExtendResult | { dialogue: Dialogue; status: ExtendResult['status']; error?: string },
    ): Promise<void> => {
      const r = todo[i];
      if (res.status === 'cancelled') {
        cancelled = true;
        return; // not written: --resume redoes it
      }
      if (res.status === 'failed') failures.push(`${file}:${r.line}: ${res.error ?? 'failed'}`);
      await writer.put(i, [recordToLine(res.dialogue, r.layout)]);
    };
    const hasMt = todo.some((r) => r.layout.format === 'mt-bench');
    let done = 0;
    if (hasMt) {
      // MT-Bench++ records: questions only in the output.
      await runPool(items, config.concurrency, stop.signal, async (it) => {
        const r = todo[it.index];
        if (r.layout.format === 'mt-bench') {
          const q = { question_id: String(r.line), category: '', turns: mtQuestions(r.sample as Dialogue) };
          const m = await extendMtBench(client, q, settings, turns, { signal: stop.signal });
          const sample: Dialogue = {
            ...(r.sample as Dialogue),
            turns: m.record.turns.map((t) => ({ role: 'user', content: t })),
          };
          await onResult(it.index, { dialogue: sample, status: m.status, error: m.error });
        } else {
          await onResult(
            it.index,
            await extend(client, it.dialogue, turns, settings, { signal: stop.signal }),
          );
        }
        done++;
        bar.update(`extend: ${skip + done}/${records.length} record(s)`);
      });
    } else {
      await extendMany(client, items, turns, settings, {
        signal: stop.signal,
        total: items.length,
        onResult,
        onProgress: (x) =>
          bar.update(
            `extend: ${skip + x.done + x.failed}/${records.length} record(s), ${x.inProgress} in progress, ${x.requests} request(s)`,
          ),
      });
    }
  } finally {
    stop.dispose();
    bar.done();
    await fh.close();
  }
  cancelled = cancelled || stop.signal.aborted;
  for (const f of failures) io.stderr.write(`parrot extend: ${f}\n`);
  const written = skip + writer.written;
  io.stderr.write(
    `parrot extend: ${written}/${records.length} record(s) in ${outFile}${failures.length ? `, ${failures.length} failed (kept with the turns that were finished)` : ''}${cancelled ? ' — cancelled; run again with --resume' : ''}\n`,
  );
  return failures.length || cancelled || written < records.length ? 1 : 0;
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
