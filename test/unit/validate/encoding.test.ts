import * as assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodingProblem, firstInvalidUtf8 } from '../../../src/core/encoding';
import { validateFile, validateText, type Diagnostic } from '../../../src/core/validate';
import { mulberry32 } from '../../support/random';

const WORKER = resolve(__dirname, '..', '..', '..', '..', 'dist', 'validate.worker.js');
const rec = (user: string, role = 'assistant'): string =>
  JSON.stringify({
    messages: [
      { role: 'user', content: user },
      { role, content: 'ok' },
    ],
  });

describe('validate/encoding', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'ps-encoding-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The diagnostics of a file, in-process and with 2 workers (which must agree). */
  async function check(name: string, bytes: Buffer): Promise<Diagnostic[]> {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    const one = await validateFile(path, { workers: 0 });
    const two = await validateFile(path, { workers: 2, minWorkerBytes: 0, workerScript: WORKER });
    assert.deepEqual(two.diagnostics, one.diagnostics, `${name}: workers vs in-process`);
    return one.diagnostics;
  }

  it('firstInvalidUtf8 agrees with isUtf8 and points at the start of the first ill-formed sequence', () => {
    const rand = mulberry32(7);
    for (let t = 0; t < 50_000; t++) {
      const b = Buffer.from(
        Array.from({ length: 1 + Math.floor(rand() * 8) }, () => Math.floor(rand() * 256)),
      );
      const i = firstInvalidUtf8(b);
      assert.equal(i < 0, isUtf8(b), b.toString('hex'));
      if (i >= 0) {
        assert.ok(isUtf8(b.subarray(0, i)), `prefix of ${b.toString('hex')} is valid`);
        assert.ok(!isUtf8(b.subarray(i)), `rest of ${b.toString('hex')} is not`);
      }
    }
    // overlong, surrogate, above U+10FFFF, cut short
    for (const hex of ['c080', 'eda080', 'f4908080', 'e282', 'ff'])
      assert.equal(firstInvalidUtf8(Buffer.from(hex, 'hex')), 0, hex);
  });

  it('invalid UTF-8 is an error at the line and UTF-16 column of the first bad byte', async () => {
    const good = rec('fine');
    const before = '{"messages":[{"role":"user","content":"é😀 a';
    const line2 = Buffer.concat([
      Buffer.from(before),
      Buffer.from([0xe2, 0x28, 0xa1]), // a 3-byte lead followed by '(': ill-formed at the lead
      Buffer.from('"},{"role":"assistant","content":"b"}]}'),
    ]);
    const d = await check(
      'bad.jsonl',
      Buffer.concat([
        Buffer.from(good + '\n' + good.replace('fine', 'other') + '\n'),
        line2,
        Buffer.from('\n'),
      ]),
    );
    const enc = d.filter((x) => x.code === 'json/encoding');
    assert.equal(enc.length, 1);
    assert.equal(enc[0].line, 2);
    assert.equal(enc[0].severity, 'error');
    assert.equal(enc[0].startCol, before.length); // UTF-16 units: é is 1, 😀 is 2
    assert.match(enc[0].message, /invalid UTF-8: byte 0xE2/);
  });

  it('a line of NUL, control characters, U+00A0 or U+3000 is a syntax error; spaces and tabs stay a blank line', async () => {
    const good = rec('x');
    const lines = [good, '\0\0\0', '\u00a0', '\u3000\u3000', '\x01\x02', '', ' \t ', good.replace('x', 'y')];
    const d = await check('blank.jsonl', Buffer.from(lines.join('\n') + '\n'));
    assert.deepEqual(
      d.map((x) => [x.line, x.code, x.severity]),
      [
        [1, 'json/syntax', 'error'],
        [2, 'json/syntax', 'error'],
        [3, 'json/syntax', 'error'],
        [4, 'json/syntax', 'error'],
        [5, 'json/blank-line', 'warning'],
        [6, 'json/blank-line', 'warning'],
      ],
    );
    assert.match(d[1].message, /U\+00A0/);
    // The text path gives the same verdicts.
    assert.deepEqual(validateText(lines.join('\n') + '\n'), d);
  });

  it('a UTF-16 or UTF-32 file is one error: convert it to UTF-8', async () => {
    const body = rec('hi') + '\n' + rec('ho') + '\n';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(body, 'utf16le')]);
    const be = Buffer.from(le.subarray(0)).swap16();
    for (const [name, bytes, what] of [
      ['le.jsonl', le, 'UTF-16 LE \\(BOM FF FE\\)'],
      ['be.jsonl', be, 'UTF-16 BE \\(BOM FE FF\\)'],
    ] as const) {
      const d = await check(name, bytes);
      assert.equal(d.length, 1, name);
      assert.equal(d[0].code, 'json/encoding');
      assert.equal(d[0].severity, 'error');
      assert.match(d[0].message, new RegExp(`the file is ${what}: convert it to UTF-8`));
    }
  });

  it('a BOM in the middle of the file is an error; the record after it is still checked, columns exact', async () => {
    const second = rec('b', 'gpt');
    const d = await check('bom.jsonl', Buffer.from('\ufeff' + rec('a') + '\n\ufeff' + second + '\n'));
    assert.deepEqual(
      d.map((x) => [x.line, x.startCol, x.code]),
      [
        [1, 0, 'json/encoding'],
        [1, second.indexOf('"gpt"') + 1, 'role/invalid'],
      ],
    );
    assert.match(d[0].message, /byte order mark \(U\+FEFF\) in the middle of the file/);
    // The first line's BOM is allowed (and not counted in columns).
    assert.equal(encodingProblem(Buffer.from('\ufeff{}'), 0, 5, true), undefined);
  });
});
