import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const rec = (user: string): string =>
  JSON.stringify({
    messages: [
      { role: 'user', content: user },
      { role: 'assistant', content: 'ok' },
    ],
  });

describe('cli: encodings and invisible lines, the same verdict in validate, stats and convert', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-enc-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('invalid UTF-8: an error at LINE:COL everywhere; convert copies the bytes as they are, never U+FFFD', () => {
    const file = path.join(dir, 'bad.jsonl');
    const prefix = '{"messages":[{"role":"user","content":"ab';
    const bad = Buffer.concat([
      Buffer.from(prefix),
      Buffer.from([0xff]),
      Buffer.from('c"},{"role":"assistant","content":"x"}]}'),
    ]);
    writeFileSync(file, Buffer.concat([Buffer.from(rec('fine') + '\n'), bad, Buffer.from('\n')]));
    const col = prefix.length + 1;
    const v = run('validate', file);
    assert.equal(v.code, 1);
    assert.match(v.stdout, new RegExp(`bad\\.jsonl:2:${col}: error json/encoding: invalid UTF-8: byte 0xFF`));
    const s = run('stats', file);
    assert.equal(s.code, 1);
    assert.match(s.stdout, /invalid lines: 1/);
    assert.match(s.stdout, new RegExp(`bad\\.jsonl:2:${col}: invalid UTF-8`));
    const out = path.join(dir, 'out.jsonl');
    const c = run('convert', '--to', 'sharegpt', file, '-o', out);
    assert.equal(c.code, 1);
    assert.match(c.stderr, new RegExp(`bad\\.jsonl:2:${col}: error: invalid UTF-8`));
    const written = readFileSync(out);
    assert.ok(written.includes(bad), 'the bad line is copied byte for byte');
    assert.ok(!written.includes(Buffer.from('\ufffd')), 'no U+FFFD written');
  });

  it('lines of NUL, NBSP or U+3000 only are invalid in validate, stats and convert (not blank lines)', () => {
    const file = path.join(dir, 'invisible.jsonl');
    writeFileSync(file, [rec('a'), '\0\0', '\u00a0', '\u3000', rec('b')].join('\n') + '\n');
    const v = run('validate', file);
    assert.equal(v.code, 1);
    assert.equal((v.stdout.match(/error json\/syntax/g) ?? []).length, 3);
    const s = run('stats', '--json', file);
    assert.equal(s.code, 1);
    const st = JSON.parse(s.stdout) as { invalid: { count: number }; blankLines: number };
    assert.equal(st.invalid.count, 3);
    assert.equal(st.blankLines, 0);
    const c = run('convert', '--to', 'sharegpt', file);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /3 invalid \(copied unchanged\)/);
  });

  it('a UTF-16 file: "UTF-16 (BOM …): convert it to UTF-8" in validate, stats and convert', () => {
    const file = path.join(dir, 'u16.jsonl');
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(rec('a') + '\n', 'utf16le')]));
    const v = run('validate', file);
    assert.equal(v.code, 1);
    assert.match(
      v.stdout,
      /u16\.jsonl:1:1: error json\/encoding: the file is UTF-16 LE \(BOM FF FE\): convert it to UTF-8/,
    );
    const s = run('stats', file);
    assert.equal(s.code, 1);
    assert.match(s.stdout, /UTF-16 LE \(BOM FF FE\): convert it to UTF-8/);
    const out = path.join(dir, 'u16.out.jsonl');
    const c = run('convert', '--to', 'sharegpt', file, '-o', out);
    assert.equal(c.code, 2);
    assert.match(c.stderr, /UTF-16 LE \(BOM FF FE\): convert it to UTF-8/);
    assert.throws(() => readFileSync(out), 'no output written');
  });

  it('a BOM in the middle of the file: the same error in validate, stats and convert', () => {
    const file = path.join(dir, 'bom.jsonl');
    writeFileSync(file, '\ufeff' + rec('a') + '\n\ufeff' + rec('b') + '\n');
    const v = run('validate', file);
    assert.equal(v.code, 1);
    assert.match(v.stdout, /bom\.jsonl:2:1: error json\/encoding: a byte order mark/);
    const s = run('stats', file);
    assert.equal(s.code, 1);
    assert.match(s.stdout, /bom\.jsonl:2:1: a byte order mark/);
    const c = run('convert', '--to', 'sharegpt', file);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /bom\.jsonl:2:1: error: a byte order mark/);
  });
});
