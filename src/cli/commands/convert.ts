import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { once } from 'node:events';
import {
  convertSample,
  foreignRoles,
  FORMAT_IDS,
  FORMATS,
  FormatError,
  isFormatId,
  parseRecord,
  serializeLike,
  UnpairedPairer,
} from '../../core/formats';
import type { EncodingProblem } from '../../core/encoding';
import { isBlankLine, type FileLine } from '../../core/stats';
import { formatElement, type ElementStyle } from '../../core/store';
import { isParquetPath } from '../../core/store/containers/parquet';
import { jsonlToParquet } from '../../core/store/recordSource';
import { inexactNumbers } from '../../core/formats/jsonKeep';
import { jsonlText, readFileRecords, where } from '../../core/store/records';
import { parseCommandArgs, usageError } from '../args';
import { progress, type CliIO } from '../io';
import { BatchedWriter } from '../../core/batchedWriter';

const NEWLINE = Buffer.from('\n');

/** How `-o out.json` writes its array: as Python's json.dump(indent=2, ensure_ascii=False) does. */
const ARRAY_STYLE: ElementStyle = {
  indent: '  ',
  base: '  ',
  newline: '\n',
  colon: ': ',
  comma: ',',
  ascii: false,
};

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
  // A Parquet output is staged as JSONL in the temp file, then written from it in one atomic save.
  const toParquet = out !== undefined && isParquetPath(out);
  const skipInvalid =
    values['skip-invalid'] === true ||
    toParquet ||
    (out !== undefined && path.extname(out).toLowerCase() === '.json');
  const tmp = out ? path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.tmp`) : undefined;
  const file$ = tmp ? createWriteStream(tmp, { flags: 'wx' }) : undefined;
  const sink: NodeJS.WritableStream = file$ ?? io.stdout;
  let sinkError: Error | undefined;
  sink.on('error', (e: Error) => (sinkError ??= e));
  const bar = progress(io);
  const batched = BatchedWriter.toStream(sink);
  const stats = { records: 0, converted: 0, copied: 0, lossy: 0, losses: 0, invalid: 0, blank: 0, paired: 0 };
  // Unpaired (KTO) records into a pair format: two records of one prompt with opposite labels.
  const pairer = FORMATS[to].preference ? new UnpairedPairer<{ line: number; raw: Buffer }>() : undefined;
  const report = (s: string): void => {
    io.stderr.write(s + '\n');
  };
  const toArray = out !== undefined && path.extname(out).toLowerCase() === '.json';
  let written$ = 0;
  const put = async (text: string | Buffer): Promise<void> => {
    const wrote = batched.write(text);
    if (wrote) await wrote;
  };
  const lossAt = (l: { container?: string; line: number }): string =>
    l.container === 'parquet' ? where(file, l as Parameters<typeof where>[1]) : `${file}:${l.line}`;
  try {
    if (toArray) await put('[');
    for await (const l of readFileRecords(file)) {
      if (sinkError) throw sinkError;
      bar.update(`${file}: line ${l.line}`);
      if (l.encoding?.wholeFile) throw new Error(`${file}:1:1: ${l.encoding.message}`);
      if (!l.encoding && isBlankLine(l.text)) {
        stats.blank++;
        continue;
      }
      if (keep && !keep(l)) continue;
      let outLine: string | undefined;
      const r = l.encoding ? undefined : parseRecord(l.text, from, { style: false });
      if (!r) {
        // Bad bytes are reported and copied as they are: never replaced by U+FFFD.
        stats.invalid++;
        const enc = l.encoding as EncodingProblem;
        report(`${where(file, l, enc.column)}: error: ${enc.message}`);
      } else if (!r.ok) {
        stats.invalid++;
        report(`${where(file, l, r.error.column - 1)}: error: ${r.error.message}`);
      } else if (r.layout.format === to) {
        stats.records++;
        stats.copied++;
        outLine = toArray ? l.text : jsonlText(l);
        const foreign = foreignRoles(r.sample, to);
        if (foreign.length) {
          stats.lossy++;
          stats.losses += foreign.length;
          if (!values.quiet) for (const f of foreign) report(`${lossAt(l)}: lost: ${f}`);
        }
      } else {
        stats.records++;
        let sample = r.sample;
        if (pairer && sample.kind === 'dialogue' && sample.label !== undefined) {
          const m = pairer.add(sample, { line: l.line, raw: l.raw });
          if (!m) continue; // written when its counterpart comes, or reported at the end
          sample = m.pair;
          stats.paired++;
          if (!values.quiet)
            report(
              `${file}:${l.line}: paired: lines ${m.keys[0].line} (desirable) and ${m.keys[1].line} (undesirable)`,
            );
        }
        try {
          const c = convertSample(sample, to, {
            keepUnknown: values['keep-unknown'] === true,
            index: stats.records,
          });
          outLine = [c.value, ...(c.more ?? [])].map((v) => serializeLike(v)).join('\n');
          stats.converted++;
          // Numbers a double cannot hold exactly change on the way (the record is rewritten).
          for (const n of inexactNumbers(l.text))
            c.losses.push(
              `number ${n.token} (column ${n.at + 1}) cannot be held exactly: written as ${n.written}`,
            );
          if (c.losses.length) {
            stats.lossy++;
            stats.losses += c.losses.length;
            if (!values.quiet) for (const loss of c.losses) report(`${lossAt(l)}: lost: ${loss}`);
          }
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
          stats.records--;
          stats.invalid++;
          report(`${where(file, l)}: error: ${e.message}`);
        }
      }
      if (outLine === undefined && skipInvalid) continue;
      if (toArray) {
        await put((written$++ === 0 ? '\n  ' : ',\n  ') + formatElement(outLine as string, ARRAY_STYLE));
        continue;
      }
      const written = outLine !== undefined ? outLine + '\n' : Buffer.concat([l.raw, NEWLINE]);
      const wrote = batched.write(written);
      if (wrote) await wrote;
    }
    for (const w of pairer?.leftovers() ?? []) {
      stats.records--;
      stats.invalid++;
      report(
        `${file}:${w.line}:1: error: unpaired record: no other record has its prompt and the opposite label (${skipInvalid ? 'left out' : 'copied unchanged at the end'})`,
      );
      if (!skipInvalid) {
        const wrote = batched.write(Buffer.concat([w.raw, NEWLINE]));
        if (wrote) await wrote;
      }
    }
    if (toArray) await put(written$ > 0 ? '\n]\n' : ']\n');
    await batched.flush();
    if (tmp) {
      file$?.end();
      await once(sink, 'close');
      if (sinkError) throw sinkError;
      if (toParquet) {
        await jsonlToParquet(tmp, out);
        await rm(tmp, { force: true });
      } else await rename(tmp, out as string);
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
    `${stats.invalid} invalid${skipInvalid ? ' (left out)' : ' (copied unchanged)'}`,
  ];
  if (stats.blank) parts.push(`${stats.blank} blank line(s) left out`);
  if (stats.paired) parts.push(`${stats.paired} pair(s) made of unpaired records`);
  report(`${file}: ${parts.join(', ')}${out ? ` -> ${out}` : ''}`);
  return stats.invalid > 0 ? 1 : 0;
}
