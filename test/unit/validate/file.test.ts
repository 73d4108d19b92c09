import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { validateFile, validateText } from '../../../src/core/validate';
import { walkLines } from '../../../src/core/validate/lines';
import { mulberry32 } from '../../support/random';

const WORKER = resolve(__dirname, '..', '..', '..', '..', 'dist', 'validate.worker.js');

interface Injected {
  line: number;
  code: string;
  col?: number;
}

/** ~6 MB of OpenAI-format records with problems injected at known lines. */
function makeFile(dir: string): { path: string; injected: Injected[]; lines: number } {
  const rand = mulberry32(42);
  const words = ['alpha', 'beta', 'gamma', 'délta', 'ε', '😀', 'tool', 'json', 'parrot', 'ask'];
  const text = (n: number): string =>
    Array.from({ length: n }, () => words[Math.floor(rand() * words.length)]).join(' ');
  const lines: string[] = [];
  const injected: Injected[] = [];
  const N = 24000;
  for (let i = 0; i < N; i++) {
    const rec = {
      id: `r${i}`,
      messages: [
        { role: 'user', content: text(12) },
        { role: 'assistant', content: text(30) },
      ],
    };
    let line = JSON.stringify(rec);
    if (i % 2000 === 17) {
      line = line.replace('"messages":[', '"messages":[ ]'); // closes the list: the following '{' is the error
      injected.push({ line: i, code: 'json/syntax', col: line.indexOf(' ]') + 2 });
    } else if (i % 3000 === 5) {
      line = '';
      injected.push({ line: i, code: 'json/blank-line', col: 0 });
    } else if (i % 2500 === 9) {
      line = JSON.stringify({ ...rec, id: 'r3' });
      injected.push({ line: i, code: 'duplicate/id', col: line.indexOf('"r3"') });
    } else if (i === 15000) {
      line = JSON.stringify({
        ...rec,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }, rec.messages[1]],
      });
      injected.push({ line: i, code: 'content/type-drift', col: line.indexOf('[{"type"') });
    } else if (i % 4000 === 123) {
      line = JSON.stringify({ instruction: text(3), output: text(3) });
      injected.push({ line: i, code: 'format/mixed', col: 0 });
    } else if (i % 5000 === 77) {
      line = JSON.stringify({ ...rec, messages: [rec.messages[0], { role: 'assistant', content: 5 }] });
      injected.push({ line: i, code: 'schema/anyOf', col: line.lastIndexOf('5') });
    }
    lines.push(line);
  }
  const path = join(dir, 'big.jsonl');
  writeFileSync(path, '\uFEFF' + lines.join('\n') + '\n');
  return { path, injected, lines: N };
}

describe('validate/validateFile', function () {
  this.timeout(120000);
  let dir: string;
  let file: ReturnType<typeof makeFile>;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ps-validate-'));
    file = makeFile(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds every injected problem at its line and column', async () => {
    const r = await validateFile(file.path, { workers: 0, maxDiagnostics: 100000 });
    assert.equal(r.lines, file.lines);
    assert.equal(r.format, 'openai');
    for (const inj of file.injected) {
      const hit = r.diagnostics.find((d) => d.line === inj.line && d.code === inj.code);
      assert.ok(hit, `missing ${inj.code} on line ${inj.line}`);
      if (inj.col !== undefined) assert.equal(hit.startCol, inj.col, `${inj.code} on line ${inj.line}`);
    }
    assert.equal(r.total, r.diagnostics.length);
    assert.equal(
      r.diagnostics.length,
      file.injected.length,
      JSON.stringify(r.diagnostics.filter((d) => !file.injected.some((i) => i.line === d.line))),
    );
  });

  it('2 workers give exactly the diagnostics of the in-process run', async () => {
    const a = await validateFile(file.path, { workers: 0, maxDiagnostics: 100000 });
    let progressed = 0;
    const b = await validateFile(file.path, {
      workers: 2,
      workerScript: WORKER,
      minWorkerBytes: 0,
      maxDiagnostics: 100000,
      onProgress: (d) => (progressed = d),
    });
    assert.deepEqual(b, a);
    assert.ok(progressed > 0);
  });

  it('caps diagnostics at maxDiagnostics but keeps counting, the same with workers', async () => {
    const a = await validateFile(file.path, { workers: 0, maxDiagnostics: 7 });
    const b = await validateFile(file.path, {
      workers: 2,
      workerScript: WORKER,
      minWorkerBytes: 0,
      maxDiagnostics: 7,
    });
    assert.equal(a.diagnostics.length, 7);
    assert.equal(a.total, file.injected.length);
    assert.deepEqual(b, a);
  });

  it('agrees with validateText on the same content', async () => {
    const { readFileSync } = await import('node:fs');
    const r = await validateFile(file.path, { workers: 0, maxDiagnostics: 100000 });
    assert.deepEqual(validateText(readFileSync(file.path, 'utf8')), r.diagnostics);
  });

  it('is cancelled by an AbortSignal (workers and in-process)', async () => {
    for (const workers of [2, 0]) {
      const ac = new AbortController();
      const p = validateFile(file.path, {
        workers,
        workerScript: WORKER,
        minWorkerBytes: 0,
        signal: ac.signal,
        onProgress: () => ac.abort(),
      });
      await assert.rejects(p, (e: Error) => e.name === 'AbortError');
    }
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      validateFile(file.path, { signal: ac.signal }),
      (e: Error) => e.name === 'AbortError',
    );
  });

  it('reports a missing worker script as an error, not a hang', async () => {
    await assert.rejects(
      validateFile(file.path, { workers: 2, minWorkerBytes: 0, workerScript: join(dir, 'nope.js') }),
    );
  });

  it('duplicate dialogues: first records found again far from the kept offsets, in either format', async () => {
    // The file path keeps a record's line and offset only every 64 KiB and the lines where the
    // first records' format changes; a first record is read again by walking lines from the kept
    // one before it. Many short records (hundreds between kept offsets), blank lines, CRLF line
    // ends, a byte order mark, runs of ShareGPT and OpenAI records, duplicates of random earlier
    // records near and far: the diagnostics equal the in-memory check's, which keeps every record.
    const rnd = mulberry32(41);
    const pick = (n: number) => Math.floor(rnd() * n);
    const dialogue = (k: number) => [`question ${k} ${k % 7 === 0 ? 'é' : ''}`, `answer ${k % 13}`];
    const record = (id: number, k: number, openai: boolean): string => {
      const [q, a] = dialogue(k);
      return JSON.stringify(
        openai
          ? {
              id: `r${id}`,
              messages: [
                { role: 'user', content: q },
                { role: 'assistant', content: a },
              ],
            }
          : {
              id: `r${id}`,
              conversations: [
                { from: 'human', value: q },
                { from: 'gpt', value: a },
              ],
            },
      );
    };
    const lines: string[] = [];
    const seen: number[] = [];
    let openai = false;
    for (let i = 0; lines.length < 40000; i++) {
      if (rnd() < 0.002) openai = !openai; // runs of one format
      if (rnd() < 0.01) {
        lines.push('');
        continue;
      }
      // A new dialogue, or one seen before (near or anywhere earlier).
      const k =
        seen.length > 0 && rnd() < 0.03
          ? seen[rnd() < 0.5 ? seen.length - 1 - pick(Math.min(50, seen.length)) : pick(seen.length)]
          : 100000 + i;
      seen.push(k);
      lines.push(record(i, k, openai));
    }
    const text = '\ufeff' + lines.map((l, i) => (i % 5 === 0 ? l + '\r' : l)).join('\n') + '\n';
    const p = join(dir, 'far-duplicates.jsonl');
    writeFileSync(p, text);
    const dups = (ds: { code: string; line: number; message: string }[]) =>
      ds.filter((d) => d.code === 'duplicate/dialogue').map((d) => `${d.line}: ${d.message}`);
    const want = dups(validateText(text));
    assert.ok(want.length > 500, `${want.length} duplicates`);
    for (const opts of [{ workers: 0 }, { workers: 2, workerScript: WORKER, minWorkerBytes: 0 }]) {
      const r = await validateFile(p, { ...opts, maxDiagnostics: 1e6 });
      assert.deepEqual(dups(r.diagnostics), want);
    }
  });

  it('walks from a kept line start to the start of a line any number of lines on', async () => {
    const rnd = mulberry32(5);
    const lines = Array.from({ length: 3000 }, (_, i) =>
      'x'.repeat(Math.floor(rnd() * (i % 100 === 0 ? 300000 : 80))),
    );
    const text = lines.join('\n') + '\n';
    const p = join(dir, 'walk.jsonl');
    writeFileSync(p, text);
    const starts = [0];
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    const refs = Array.from({ length: 400 }, () => {
      const from = Math.floor(rnd() * 2999);
      const line = from + Math.floor(rnd() * (3000 - from));
      return { ref: starts[from], line, format: 1, skip: line - from };
    });
    refs.push(
      { ref: starts[17], line: 17, format: 2, skip: 0 },
      { ref: starts[2999], line: 2999, format: 0, skip: 0 },
    );
    const got = await walkLines(p, refs);
    assert.deepEqual(
      got,
      refs.map((r) => ({ ref: starts[r.line], line: r.line, format: r.format })),
    );
  });

  it('duplicate dialogues: texts that share only their first and last characters are told apart', async () => {
    // The file path compares a signature of each text's ends first and confirms matches in full,
    // within one part of the file and across parts (workers).
    const head = 'Explain the following part of the training log in detail, step by step, please: ';
    const tail = ' -- and tell me what it means for the learning rate schedule that we chose above.';
    const rec = (id: number, middle: string, answer = 'It means the loss plateaued.') =>
      JSON.stringify({
        id,
        messages: [
          { role: 'user', content: head + middle + tail },
          { role: 'assistant', content: answer },
        ],
      });
    const lines = [
      rec(0, 'epoch 3 loss 1.20'),
      rec(1, 'epoch 4 loss 1.10'),
      rec(2, 'epoch  4   loss 1.10'), // = line 1 after collapsing whitespace
      rec(3, 'epoch 5 loss 1.05'),
      rec(4, 'epoch 3 loss 1.20'), // = line 0
      rec(5, 'epoch 3 loss 1.20', 'It means the loss went down.'), // same question, other answer
      rec(6, 'epoch 4 loss 1.10'), // = line 1 (and line 2)
    ];
    // About 3 MB of other records, then duplicates of records at the start: with workers, they are
    // checked in another part of the file than their first occurrence.
    for (let i = 0; lines.length < 12000; i++) lines.push(rec(1000 + i, `step ${i} loss ${i / 7}`));
    lines.push(rec(7, 'epoch 5 loss 1.05'), rec(8, 'epoch 6 loss 0.90'), rec(9, 'epoch 4 loss 1.10'));
    const n = lines.length;
    const p = join(dir, 'near-duplicates.jsonl');
    writeFileSync(p, lines.join('\n') + '\n');
    const expected = [
      { line: 2, first: 1 },
      { line: 4, first: 0 },
      { line: 6, first: 1 },
      { line: n - 3, first: 3 },
      { line: n - 1, first: 1 },
    ];
    const results = [
      await validateFile(p, { workers: 0 }),
      await validateFile(p, { workers: 2, workerScript: WORKER, minWorkerBytes: 0 }),
    ];
    for (const r of results) {
      assert.deepEqual(
        r.diagnostics.map((d) => ({ line: d.line, code: d.code, message: d.message })),
        expected.map((e) => ({
          line: e.line,
          code: 'duplicate/dialogue',
          message: `duplicate dialogue: same content as line ${e.first + 1}`,
        })),
      );
      assert.equal(r.total, expected.length);
    }
    assert.deepEqual(validateText(lines.join('\n')), results[0].diagnostics);
  });

  it('empty file, file without final newline, CRLF', async () => {
    const p = join(dir, 'small.jsonl');
    writeFileSync(p, '');
    assert.deepEqual(await validateFile(p), {
      diagnostics: [],
      total: 0,
      errors: 0,
      lines: 0,
      format: undefined,
    });
    writeFileSync(p, '{"instruction":"a","output":"b"}\r\n{"instruction":"c","output":"d"}');
    const r = await validateFile(p);
    assert.equal(r.lines, 2);
    assert.deepEqual(r.diagnostics, []);
  });
});
