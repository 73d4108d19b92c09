// The block kernel (src/core/validate/fast.wat) against the fast path in JavaScript (fastLine) and
// the full check (JSON.parse, the schema, the lint rules): for every line of a block, the same line
// end, the same verdict and the same facts as fastLine, and nothing the full check would report.
import * as assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fastLine, type FastFacts } from '../../../src/core/validate/fast';
import { releaseLineKernel, takeLineKernel, type LineKernel } from '../../../src/core/validate/kernel';
import { forEachLine, RawLine } from '../../../src/core/validate/lines';
import { validateFile, validateText } from '../../../src/core/validate';
import { RecordChecker } from '../../../src/core/validate/record';
import { mulberry32 } from '../../support/random';
import { mutate, pick, randomBlocks, randomRecord, rewrite } from '../../support/shareGptRandom';

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const DATASETS = join(ROOT, 'test', 'fixtures', 'datasets');
const BLOCK = 1 << 16;

const js: FastFacts = { idHash: 0, signature: 0, recStart: 0, recEnd: 0 };
const wa: FastFacts = { idHash: 0, signature: 0, recStart: 0, recEnd: 0 };

/**
 * Reads the lines of `block` (valid UTF-8, at most BLOCK bytes) with the kernel and checks each
 * against fastLine and, when accepted, against the full check. Returns how many it accepted.
 */
function compareBlock(k: LineKernel, block: Buffer, which: 0 | 1, label: string): number {
  assert.ok(isUtf8(block) && block.length <= BLOCK);
  const buf = k.buffers[which];
  // Leftovers of an earlier block after the end must not matter.
  buf.fill(0x22, block.length);
  block.copy(buf);
  k.begin(buf, block.length);
  let at = 0;
  let accepted = 0;
  let index = 0;
  while (at < block.length) {
    let nl = block.indexOf(10, at);
    if (nl < 0) nl = block.length;
    const end = k.next(at);
    const where = `${label}, line ${index}: ${JSON.stringify(block.toString('utf8', at, nl))}`;
    assert.equal(end, nl, `line end, ${where}`);
    const line = new RawLine(block);
    line.setBlock(block, block.toString('latin1'), true);
    line.set(index, at, at, nl);
    const candidate = block[at] !== 0xef;
    const expected = candidate && fastLine(line, js);
    assert.equal(k.slot >= 0, expected, `verdict, ${where}`);
    if (expected) {
      k.facts(k.slot, wa);
      assert.deepEqual(wa, js, `facts, ${where}`);
      const full = new RecordChecker({}, 'signature').check(block.toString('utf8', at, nl), 1);
      assert.deepEqual(full.diagnostics, [], `accepted, not by the full check: ${where}`);
      assert.equal(full.facts?.idHash, wa.idHash, where);
      assert.equal(full.facts?.dialogueKey, wa.signature, where);
      accepted++;
    }
    at = nl + 1;
    index++;
  }
  return accepted;
}

describe('validate/block kernel agrees with the fast path and the full check', function () {
  this.timeout(300_000);
  let k: LineKernel;

  before(() => {
    const kernel = takeLineKernel(BLOCK);
    // Node 20 and later have WebAssembly SIMD: the kernel must be there.
    assert.ok(kernel, 'no block kernel');
    k = kernel;
  });
  after(() => releaseLineKernel(k));

  it('clean random records: same verdicts and facts, most of them accepted', () => {
    const rnd = mulberry32(11);
    let accepted = 0;
    let lines = 0;
    for (const [i, block] of randomBlocks(BLOCK, rnd, 300, () =>
      JSON.stringify(randomRecord(rnd)),
    ).entries()) {
      accepted += compareBlock(k, block, (i & 1) as 0 | 1, `block ${i}`);
      lines += block.toString('latin1').split('\n').length;
    }
    assert.ok(accepted > lines * 0.15, `${accepted} accepted of ${lines} lines`);
  });

  it('rewritten and mutated records: same verdicts and facts', () => {
    const rnd = mulberry32(12);
    let accepted = 0;
    const line = (): string => {
      let text = rewrite(rnd, JSON.stringify(randomRecord(rnd)));
      const edits = Math.floor(rnd() * 3);
      for (let e = 0; e < edits; e++) text = mutate(rnd, text);
      return text;
    };
    for (const [i, block] of randomBlocks(BLOCK, rnd, 600, line).entries()) {
      accepted += compareBlock(k, block, (i & 1) as 0 | 1, `block ${i}`);
    }
    assert.ok(accepted > 500, `${accepted} accepted`);
  });

  it('ids, escapes and line ends at every alignment around a 16-byte read', () => {
    const rnd = mulberry32(13);
    const ids = [
      '"a"',
      '""',
      '"x\\"y"',
      '"\u00e9"',
      '0',
      '-0',
      '-1',
      '07',
      '123456789012345',
      '1234567890123456',
      '1.5',
      '1e3',
      'null',
      'true',
    ];
    const values = [
      '"hi"',
      '"a\\\\"',
      '"a\\\\\\"b"',
      '"\\\\n x"',
      '"\\u0041"',
      '"a\\/b"',
      '" \\t"',
      '"\u00a0x"',
      '"\u3000"',
      '"\u200b"',
      '"\u200c"',
      '"\ud83e\udd9c"',
      '"x\\qy"',
    ];
    let accepted = 0;
    for (let round = 0; round < 400; round++) {
      const pad = ' '.repeat(Math.floor(rnd() * 17));
      const text = 'w'.repeat(Math.floor(rnd() * 33));
      const line = `${pad}{"id":${pick(rnd, ids)},"conversations":[{"from":"human","value":"${text}"},{"from":"gpt","value":${pick(rnd, values)}}]}${pad}${pick(rnd, ['', '\r', ' \r', '\r\r'])}`;
      const block = Buffer.from(
        [line, line.slice(0, Math.floor(rnd() * line.length)), line].join('\n'),
        'utf8',
      );
      accepted += compareBlock(k, block, (round & 1) as 0 | 1, `round ${round}`);
    }
    assert.ok(accepted > 80, `${accepted} accepted`);
  });

  it('every line of the fixture datasets', () => {
    let accepted = 0;
    for (const name of readdirSync(DATASETS).filter((n) => n.endsWith('.jsonl'))) {
      const bytes = readFileSync(join(DATASETS, name));
      if (!isUtf8(bytes)) continue; // the kernel only reads valid UTF-8 blocks
      for (let at = 0; at < bytes.length;) {
        let end = at + BLOCK >= bytes.length ? bytes.length : bytes.lastIndexOf(10, at + BLOCK - 1) + 1;
        if (end <= at) end = Math.min(bytes.length, at + BLOCK); // a line longer than a block: its start only
        const block = bytes.subarray(at, end);
        if (isUtf8(block)) accepted += compareBlock(k, block, 0, name);
        at = end;
      }
    }
    assert.ok(accepted > 0);
  });
});

describe('validate/block kernel over a block of more lines than one call reports', () => {
  it('short records and empty lines: every line end and verdict as fastLine gives them', () => {
    const block = 4 << 20;
    const k = takeLineKernel(block);
    assert.ok(k, 'no block kernel');
    try {
      const rec = '{"conversations":[{"from":"human","value":"a"},{"from":"gpt","value":"b"}]}';
      const lines: string[] = [];
      for (let i = 0, size = 0; size < block - 200; i++) {
        lines.push(i % 7 === 3 ? '' : rec);
        size += lines[i].length + 1;
      }
      const bytes = Buffer.from(lines.join('\n') + '\n', 'utf8');
      const buf = k.buffers[0];
      bytes.copy(buf);
      k.begin(buf, bytes.length);
      const line = new RawLine(bytes);
      line.setBlock(bytes, bytes.toString('latin1'), true);
      let at = 0;
      let accepted = 0;
      for (let i = 0; i < lines.length; i++) {
        const end: number = k.next(at);
        assert.equal(end, at + lines[i].length, `line ${i}`);
        line.set(i, at, at, end);
        assert.equal(k.slot >= 0, fastLine(line, js), `line ${i}`);
        if (k.slot >= 0) accepted++;
        at = end + 1;
      }
      assert.equal(at, bytes.length);
      assert.ok(
        lines.length > 3 * 16384 && accepted > 2 * 16384,
        `${lines.length} lines, ${accepted} accepted`,
      );
    } finally {
      releaseLineKernel(k);
    }
  });
});

describe('validate/forEachLine with the block kernel', () => {
  it('a line longer than a block: read whole, and the kernel reads the blocks after it again', async () => {
    const block = 1 << 16;
    const k = takeLineKernel(block);
    assert.ok(k, 'no block kernel');
    const dir = mkdtempSync(join(tmpdir(), 'ps-kernel-'));
    try {
      const rec = (i: number): string =>
        `{"id":"r${i}","conversations":[{"from":"human","value":"q ${i}"},{"from":"gpt","value":"a ${i}"}]}`;
      const lines: string[] = [];
      for (let i = 0; i < 20000; i++) lines.push(rec(i));
      const long = `{"id":"long","conversations":[{"from":"human","value":"${'x'.repeat(5 * block)}"},{"from":"gpt","value":"y"}]}`;
      lines.splice(1000, 0, long);
      lines.push('{"id": "bad", "conversations": [');
      const file = join(dir, 'long.jsonl');
      writeFileSync(file, lines.join('\n') + '\n');
      const seen: { text: string; slot: number }[] = [];
      const n = await forEachLine(
        file,
        0,
        Buffer.byteLength(lines.join('\n') + '\n'),
        (l) => seen.push({ text: l.buf.toString('utf8', l.start, l.end), slot: l.slot }),
        undefined,
        undefined,
        block,
        undefined,
        k,
      );
      assert.equal(n, lines.length);
      assert.deepEqual(
        seen.map((s) => s.text),
        lines,
      );
      // Lines well after the long one (past the grown block) are read by the kernel again.
      assert.ok(
        seen.slice(15000, 20000).every((s) => s.slot >= 0),
        'the kernel reads the later blocks',
      );
      assert.equal(seen[seen.length - 1].slot, -1, 'the broken last line is not accepted');
      // And the verdicts are the full path's.
      const r = await validateFile(file, { workers: 0 });
      assert.deepEqual(r.diagnostics, validateText(lines.join('\n') + '\n'));
    } finally {
      releaseLineKernel(k);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
