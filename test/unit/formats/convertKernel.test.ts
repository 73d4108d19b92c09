// The fast path of ShareGPT → OpenAI chat conversion (fast.wat's `convert`, used by convertRange)
// against the full conversion (convertRecord): for every line the validation kernel accepts, the
// kernel writes the same bytes as convertRecord, or declines (-1) where it cannot (a `\/` escape, a
// numeric id), and convertRecord reports nothing for it; and a converted file is the same whether
// its ranges take the fast path or not.
import * as assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { convertRange } from '../../../src/core/formats/convertRange';
import {
  convertRecord,
  emptyConvertStats,
  type ConvertInput,
  type RecordConverter,
} from '../../../src/core/formats/convertRecord';
import { releaseLineKernel, takeLineKernel, type LineKernel } from '../../../src/core/validate/kernel';
import { mulberry32 } from '../../support/random';
import { mutate, pick, randomBlocks, randomRecord, rewrite } from '../../support/shareGptRandom';

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const DATASETS = join(ROOT, 'test', 'fixtures', 'datasets');
const BLOCK = 1 << 16;

/** What convertRecord writes for one line into OpenAI chat, and whether it reported anything. */
function full(
  text: string,
  keepUnknown: boolean,
): { out: string | undefined; reports: number; converted: number } {
  let reports = 0;
  const c: RecordConverter = {
    to: 'openai',
    keepUnknown,
    toArray: false,
    stats: emptyConvertStats(),
    report: () => reports++,
  };
  const input: ConvertInput = { line: 1, column: 0, text, raw: Buffer.from(text), container: 'jsonl' };
  const out = convertRecord(input, c);
  assert.notEqual(typeof out, 'symbol');
  return { out: out as string | undefined, reports, converted: c.stats.converted };
}

interface Tally {
  accepted: number;
  written: number;
  declined: number;
}

/** Each line of `block` through the kernel; every line it writes is compared with convertRecord's. */
function compareBlock(k: LineKernel, block: Buffer, which: 0 | 1, label: string, t: Tally): void {
  assert.ok(isUtf8(block) && block.length <= BLOCK);
  const buf = k.buffers[which];
  buf.fill(0x22, block.length); // leftovers after the block must not matter
  block.copy(buf);
  k.begin(buf, block.length);
  let at = 0;
  while (at < block.length) {
    const nl = k.next(at);
    if (k.slot >= 0) {
      t.accepted++;
      const text = block.toString('utf8', at, nl).replace(/\r$/, '');
      const where = `${label}: ${JSON.stringify(text)}`;
      k.output.fill(0x78);
      const n = k.convertLine(at, 0);
      assert.ok(n <= 2 * (nl - at) + 64, `output bound, ${where}`);
      for (const keep of [false, true]) {
        const f = full(text, keep);
        if (n >= 0) {
          assert.equal(k.output.toString('utf8', 0, n), f.out, `bytes (keepUnknown ${keep}), ${where}`);
          assert.equal(f.reports, 0, `reports, ${where}`);
          assert.equal(f.converted, 1, where);
        }
      }
      if (n >= 0) t.written++;
      else {
        t.declined++;
        // Declined only for what it cannot write as convertRecord does.
        assert.ok(/\\\/|"id" *: *-?[0-9]/.test(text), `declined without a reason, ${where}`);
      }
    }
    at = nl + 1;
  }
}

/** `\/` for some of the slashes, as some JSON writers escape them. */
function slashes(rnd: () => number, line: string): string {
  return rnd() < 0.2 ? line.replace(/\//g, (m) => (rnd() < 0.5 ? '\\/' : m)) : line;
}

describe('convert/ShareGPT → OpenAI chat fast path agrees with the full conversion', function () {
  this.timeout(300_000);
  let k: LineKernel;

  before(() => {
    const kernel = takeLineKernel(BLOCK, 1 << 16, 2 * BLOCK + 64);
    assert.ok(kernel, 'no block kernel'); // Node 20 and later have WebAssembly SIMD
    k = kernel;
  });
  after(() => releaseLineKernel(k));

  it('random, rewritten and mutated records: the same bytes for every line it writes', () => {
    const rnd = mulberry32(21);
    const t: Tally = { accepted: 0, written: 0, declined: 0 };
    const line = (): string => {
      let text = slashes(rnd, rewrite(rnd, JSON.stringify(randomRecord(rnd))));
      if (rnd() < 0.2) text = mutate(rnd, text);
      return text;
    };
    for (const [i, block] of randomBlocks(BLOCK, rnd, 800, line).entries())
      compareBlock(k, block, (i & 1) as 0 | 1, `block ${i}`, t);
    assert.ok(t.written > 2000, `${t.written} written of ${t.accepted} accepted`);
    assert.ok(t.declined > 50, `${t.declined} declined`);
  });

  it('ids, escapes, roles and spaces at every alignment', () => {
    const rnd = mulberry32(22);
    const ids = ['"a"', '""', '"sg_1/2"', '7', '-3', '0'];
    const values = [
      '"hi"',
      '"a\\\\"',
      '"a\\\\\\"b"',
      '"\\\\/ x"',
      '"a\\/b"',
      '" \\t\\n\\r\\b\\f"',
      '"\u00a0x"',
      '"\ud83e\udd9c/"',
    ];
    const t: Tally = { accepted: 0, written: 0, declined: 0 };
    for (let round = 0; round < 600; round++) {
      const sp = (): string => ' '.repeat(Math.floor(rnd() * 3));
      const turn = (role: string, v: string): string =>
        rnd() < 0.5
          ? `{${sp()}"from"${sp()}:${sp()}"${role}"${sp()},${sp()}"value"${sp()}:${sp()}${v}${sp()}}`
          : `{${sp()}"value"${sp()}:${sp()}${v}${sp()},${sp()}"from"${sp()}:${sp()}"${role}"${sp()}}`;
      const turns = [
        ...(rnd() < 0.3 ? [turn('system', pick(rnd, values))] : []),
        turn(pick(rnd, ['human', 'user']), `"${'w'.repeat(Math.floor(rnd() * 33))}"`),
        turn(pick(rnd, ['gpt', 'assistant']), pick(rnd, values)),
      ];
      const conv = `"conversations"${sp()}:${sp()}[${sp()}${turns.join(`${sp()},${sp()}`)}${sp()}]`;
      const id = rnd() < 0.8 ? `"id"${sp()}:${sp()}${pick(rnd, ids)}` : undefined;
      const members = id === undefined ? [conv] : rnd() < 0.5 ? [id, conv] : [conv, id];
      const line = `${sp()}{${sp()}${members.join(`${sp()},${sp()}`)}${sp()}}${sp()}`;
      compareBlock(
        k,
        Buffer.from(`${line}\n${line}\r\n${line}`, 'utf8'),
        (round & 1) as 0 | 1,
        `round ${round}`,
        t,
      );
    }
    assert.ok(t.written > 500, `${t.written} written`);
    assert.ok(t.declined > 200, `${t.declined} declined`);
  });

  it('every line of the fixture datasets', () => {
    const t: Tally = { accepted: 0, written: 0, declined: 0 };
    for (const name of readdirSync(DATASETS).filter((n) => n.endsWith('.jsonl'))) {
      const bytes = readFileSync(join(DATASETS, name));
      for (let at = 0; at < bytes.length;) {
        let end = at + BLOCK >= bytes.length ? bytes.length : bytes.lastIndexOf(10, at + BLOCK - 1) + 1;
        if (end <= at) end = Math.min(bytes.length, at + BLOCK);
        const block = bytes.subarray(at, end);
        if (isUtf8(block)) compareBlock(k, block, 0, name, t);
        at = end;
      }
    }
    assert.ok(t.written > 0);
  });
});

describe('convert/a range converted with and without the fast path', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'ps-convert-kernel-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the same output, counts and reports, fast lines among invalid and full-path ones', async () => {
    const rnd = mulberry32(23);
    const lines: Buffer[] = [];
    let size = 0;
    while (size < 3 << 20) {
      const r = rnd();
      const line =
        r < 0.02
          ? Buffer.from('{"broken": ')
          : r < 0.03
            ? Buffer.concat([Buffer.from('{"conversations":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])
            : r < 0.035
              ? Buffer.from('x'.repeat(1 << 21)) // longer than the kernel's blocks
              : Buffer.from(slashes(rnd, rewrite(rnd, JSON.stringify(randomRecord(rnd)))));
      lines.push(line, Buffer.from('\n'));
      if (line.length < BLOCK) size += line.length + 1; // 3 MiB of records besides the long lines
    }
    const file = join(dir, 'in.jsonl');
    const bytes = Buffer.concat(lines);
    writeFileSync(file, bytes);
    const task = { id: 0, path: file, start: 0, end: bytes.length, keepUnknown: false, skipInvalid: false };
    for (const skipInvalid of [false, true]) {
      const part = await convertRange({ ...task, skipInvalid, to: 'openai' });
      const expected: Buffer[] = [];
      let reports = 0;
      for (let i = 0; i < lines.length; i += 2) {
        // As a range reads a line: without the '\r' before its '\n'.
        const raw = lines[i][lines[i].length - 1] === 0x0d ? lines[i].subarray(0, -1) : lines[i];
        const text = raw.toString('utf8');
        if (!isUtf8(raw)) {
          reports++;
          if (!skipInvalid) expected.push(raw); // copied as it is, never decoded
          continue;
        }
        const f = full(text, false);
        reports += f.reports;
        if (f.out !== undefined) expected.push(Buffer.from(f.out));
        else if (!skipInvalid) expected.push(raw);
      }
      const got = Buffer.concat(part.chunks);
      const want = Buffer.concat(expected.flatMap((l) => [l, Buffer.from('\n')]));
      assert.ok(got.equals(want), `output bytes: ${got.length} vs ${want.length}`);
      assert.equal(part.reports.length, reports);
      assert.equal(part.lines, lines.length / 2);
      assert.ok(part.stats.converted > 1000, `${part.stats.converted} converted`);
      assert.ok(part.chunks.length > 1, `${part.chunks.length} chunks`);
    }
  });
});
