import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { once } from 'node:events';
import {
  convertSample,
  FORMAT_IDS,
  FORMATS,
  FormatError,
  isFormatId,
  parseRecord,
  serializeLike,
} from '../../core/formats';
import type { EncodingProblem } from '../../core/encoding';
import { isBlankLine, readFileLines } from '../../core/stats';
import { parseCommandArgs, usageError } from '../args';
import { progress, type CliIO } from '../io';
import { BatchedSink } from '../batchedSink';

const NEWLINE = Buffer.from('\n');

const HELP = `Usage: parrot convert --to FORMAT [-o OUT] [options] FILE

Converts a JSONL dataset to another format, record by record (each record's own format is detected).
Writes to stdout, or atomically to OUT (temp file + rename). What the target format cannot hold is
reported on stderr as FILE:LINE: lost: ..., followed by a summary.

Lines that are not valid records (bad JSON, unknown format, a dialogue where a preference pair is
needed) are reported as FILE:LINE:COL: error: ... and copied to the output unchanged, so no line is
lost and line numbers still match; use --skip-invalid to leave them out instead.
Records already in the target format are copied byte for byte. Blank lines are left out.

Options:
  --to FORMAT        target format: ${FORMAT_IDS.join(', ')}
  -o, --output OUT   write to OUT instead of stdout
  --from FORMAT      read every record as FORMAT instead of detecting it
  --keep-unknown     keep fields the target format does not define (default: drop and report)
  --skip-invalid     leave invalid lines out of the output (they are still reported)
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
} as const;

export async function convertCommand(args: string[], io: CliIO): Promise<number> {
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
  const tmp = out ? path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.tmp`) : undefined;
  const file$ = tmp ? createWriteStream(tmp, { flags: 'wx' }) : undefined;
  const sink: NodeJS.WritableStream = file$ ?? io.stdout;
  let sinkError: Error | undefined;
  sink.on('error', (e: Error) => (sinkError ??= e));
  const bar = progress(io);
  const batched = new BatchedSink(sink);
  const stats = { records: 0, converted: 0, copied: 0, lossy: 0, losses: 0, invalid: 0, blank: 0 };
  const report = (s: string): void => {
    io.stderr.write(s + '\n');
  };
  try {
    for await (const l of readFileLines(file)) {
      if (sinkError) throw sinkError;
      bar.update(`${file}: line ${l.line}`);
      if (l.encoding?.wholeFile) throw new Error(`${file}:1:1: ${l.encoding.message}`);
      if (!l.encoding && isBlankLine(l.text)) {
        stats.blank++;
        continue;
      }
      let outLine: string | undefined;
      const r = l.encoding ? undefined : parseRecord(l.text, from, { style: false });
      if (!r) {
        // Bad bytes are reported and copied as they are: never replaced by U+FFFD.
        stats.invalid++;
        const enc = l.encoding as EncodingProblem;
        report(`${file}:${l.line}:${enc.column + 1}: error: ${enc.message}`);
      } else if (!r.ok) {
        stats.invalid++;
        report(`${file}:${l.line}:${r.error.column}: error: ${r.error.message}`);
      } else if (r.layout.format === to) {
        stats.records++;
        stats.copied++;
        outLine = l.text;
      } else {
        stats.records++;
        try {
          const c = convertSample(r.sample, to, {
            keepUnknown: values['keep-unknown'] === true,
            index: stats.records,
          });
          outLine = serializeLike(c.value);
          stats.converted++;
          if (c.losses.length) {
            stats.lossy++;
            stats.losses += c.losses.length;
            if (!values.quiet) for (const loss of c.losses) report(`${file}:${l.line}: lost: ${loss}`);
          }
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
          stats.records--;
          stats.invalid++;
          report(`${file}:${l.line}:1: error: ${e.message}`);
        }
      }
      if (outLine === undefined && values['skip-invalid']) continue;
      const written = outLine !== undefined ? outLine + '\n' : Buffer.concat([l.raw, NEWLINE]);
      const wrote = batched.write(written);
      if (wrote) await wrote;
    }
    await batched.flush();
    if (tmp) {
      file$?.end();
      await once(sink, 'close');
      if (sinkError) throw sinkError;
      await rename(tmp, out as string);
    }
  } catch (e) {
    bar.done();
    if (tmp) {
      file$?.destroy();
      await rm(tmp, { force: true });
    }
    io.stderr.write(`parrot convert: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  bar.done();
  const target = FORMATS[to].title;
  const parts = [
    `${stats.records} record(s) to ${target}`,
    `${stats.converted} converted`,
    `${stats.copied} already ${to}`,
    `${stats.lossy} with losses (${stats.losses} in all)`,
    `${stats.invalid} invalid${values['skip-invalid'] ? ' (left out)' : ' (copied unchanged)'}`,
  ];
  if (stats.blank) parts.push(`${stats.blank} blank line(s) left out`);
  report(`${file}: ${parts.join(', ')}${out ? ` -> ${out}` : ''}`);
  return stats.invalid > 0 ? 1 : 0;
}
