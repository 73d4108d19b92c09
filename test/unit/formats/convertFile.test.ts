import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ConvertCancelled,
  convertFile,
  type ConvertReportEntry,
} from '../../../src/core/formats/convertFile';

describe('formats/convertFile', () => {
  let dir = '';
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-convertfile-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function dataset(n: number): string {
    const lines: string[] = [];
    for (let i = 0; i < n; i++)
      lines.push(
        JSON.stringify({
          id: `r${i}`,
          extra: i,
          conversations: [
            { from: 'human', value: `question ${i}` },
            { from: 'gpt', value: `answer ${i}` },
          ],
        }),
      );
    lines[2] = '{"conversations": [oops';
    const file = path.join(dir, 'in.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    return file;
  }

  it('a cancel in the middle leaves the existing output as it was and no temp file', async () => {
    const file = dataset(5000);
    const out = path.join(dir, 'out.json');
    writeFileSync(out, 'old\n');
    const abort = new AbortController();
    let seen = 0;
    await assert.rejects(
      convertFile(file, out, {
        to: 'openai',
        signal: abort.signal,
        report: () => undefined,
        progress: () => {
          if (++seen === 2500) abort.abort();
        },
      }),
      ConvertCancelled,
    );
    assert.equal(seen, 2500, 'the engine went on reading after the cancel');
    assert.equal(readFileSync(out, 'utf8'), 'old\n');
    assert.deepEqual(readdirSync(dir).sort(), ['in.jsonl', 'out.json']);
  });

  it('reports each problem with its line and column, as parrot convert prints it', async () => {
    const file = dataset(4);
    const report: ConvertReportEntry[] = [];
    const stats = await convertFile(file, path.join(dir, 'out.jsonl'), {
      to: 'openai',
      report: (e) => report.push(e),
    });
    assert.equal(stats.invalid, 1);
    assert.equal(stats.converted, 3);
    const lost = report.filter((e) => e.kind === 'lost');
    assert.deepEqual(
      lost.map((e) => e.line),
      [1, 2, 4],
    );
    for (const e of lost) assert.equal(e.text, `${file}:${e.line}: lost: ${e.message}`);
    const errors = report.filter((e) => e.kind === 'error');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.line, 3);
    assert.equal(errors[0]?.column, 20);
    assert.equal(errors[0]?.text, `${file}:3:20: error: ${errors[0]?.message}`);
  });

  it('a file that cannot be read as records fails at once and leaves no temp file', async () => {
    const file = path.join(dir, 'config.json');
    writeFileSync(file, '{"not": "an array"}\n');
    await assert.rejects(
      convertFile(file, path.join(dir, 'out.jsonl'), { to: 'openai', report: () => undefined }),
      /array/,
    );
    assert.deepEqual(readdirSync(dir), ['config.json']);
  });
});
