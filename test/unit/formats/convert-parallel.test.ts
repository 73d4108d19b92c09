// convertFile in worker threads (byte ranges, output in file order) writes the same bytes, counts
// the same records and reports the same lines as on one thread, on random files of every format
// with invalid JSON, ill-formed UTF-8, misplaced BOMs, CRLF endings and blank lines, to every format.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { FORMAT_IDS } from '../../../src/core/formats';
import {
  convertFile,
  type ConvertFileOptions,
  type ConvertReportEntry,
} from '../../../src/core/formats/convertFile';
import { mulberry32 } from '../../support/random';
import { randomRecord } from '../../support/randomRecords';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const WORKER = path.join(ROOT, 'dist', 'convert.worker.js');

/** A random file of about `bytes`, with odd lines among the records; line 1 may start with a BOM. */
function randomFile(seed: number, bytes: number, bom: boolean): Buffer {
  const rnd = mulberry32(seed);
  const parts: Buffer[] = bom ? [Buffer.from([0xef, 0xbb, 0xbf])] : [];
  let size = 0;
  while (size < bytes) {
    const k = rnd();
    let line: Buffer;
    if (k < 0.01) line = Buffer.from('{"broken": ');
    else if (k < 0.02) line = Buffer.from('  ');
    else if (k < 0.025) line = Buffer.from('');
    else if (k < 0.03)
      line = Buffer.concat([Buffer.from('{"conversations":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    else if (k < 0.035)
      line = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(randomRecord(rnd))]);
    else line = Buffer.from(randomRecord(rnd));
    parts.push(line, Buffer.from(rnd() < 0.05 ? '\r\n' : '\n'));
    size += line.length + 1;
  }
  // Sometimes no newline at the end.
  if (rnd() < 0.5) parts.pop();
  return Buffer.concat(parts);
}

async function run(
  file: string,
  out: string,
  opts: Omit<ConvertFileOptions, 'report'>,
): Promise<{ bytes: Buffer; stats: unknown; report: ConvertReportEntry[] }> {
  const report: ConvertReportEntry[] = [];
  const stats = await convertFile(file, out, { ...opts, report: (e) => report.push(e) });
  return { bytes: readFileSync(out), stats, report };
}

describe('convert in worker threads', function () {
  this.timeout(600_000);
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'ps-convert-par-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes and reports what one thread does, on random files to every format', async () => {
    for (const [seed, bom] of [
      [1, true],
      [2, false],
    ] as const) {
      const file = path.join(dir, `random-${seed}.jsonl`);
      // Several ranges of 1 MiB (the smallest a range is), so that ranges end inside the odd lines too.
      writeFileSync(file, randomFile(seed, 2.5 * (1 << 20), bom));
      for (const to of FORMAT_IDS) {
        for (const keepUnknown of [false, true]) {
          const one = await run(file, path.join(dir, 'one.jsonl'), { to, keepUnknown, workers: 0 });
          const par = await run(file, path.join(dir, 'par.jsonl'), {
            to,
            keepUnknown,
            workers: 2,
            workerScript: WORKER,
            minWorkerBytes: 0,
          });
          const what = `seed ${seed} --to ${to}${keepUnknown ? ' --keep-unknown' : ''}`;
          assert.ok(one.bytes.equals(par.bytes), `${what}: the output differs`);
          assert.deepEqual(par.stats, one.stats, what);
          assert.deepEqual(par.report, one.report, what);
        }
      }
    }
  });

  it('leaves invalid records out as one thread does, and writes to a stream in order', async () => {
    const file = path.join(dir, 'random-3.jsonl');
    writeFileSync(file, randomFile(3, 3 * (1 << 20), false));
    const one = await run(file, path.join(dir, 'one.jsonl'), { to: 'openai', skipInvalid: true, workers: 0 });
    assert.ok((one.stats as { invalid: number }).invalid > 0);
    const par = await run(file, path.join(dir, 'par.jsonl'), {
      to: 'openai',
      skipInvalid: true,
      workers: 2,
      workerScript: WORKER,
      minWorkerBytes: 0,
    });
    assert.ok(one.bytes.equals(par.bytes));
    assert.deepEqual(par.report, one.report);
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    await convertFile(file, stream, {
      to: 'openai',
      skipInvalid: true,
      workers: 2,
      workerScript: WORKER,
      minWorkerBytes: 0,
      report: () => undefined,
    });
    assert.ok(Buffer.concat(chunks).equals(one.bytes));
  });

  it('stops on a cancel and leaves the output as it was', async () => {
    const file = path.join(dir, 'random-4.jsonl');
    writeFileSync(file, randomFile(4, 3 * (1 << 20), false));
    const out = path.join(dir, 'kept.jsonl');
    writeFileSync(out, 'old\n');
    const abort = new AbortController();
    let lines = 0;
    await assert.rejects(
      convertFile(file, out, {
        to: 'openai',
        workers: 2,
        workerScript: WORKER,
        minWorkerBytes: 0,
        signal: abort.signal,
        progress: (p) => {
          lines = p.line;
          abort.abort();
        },
        report: () => undefined,
      }),
      /cancelled/,
    );
    assert.ok(lines > 0);
    assert.equal(readFileSync(out, 'utf8'), 'old\n');
  });
});
