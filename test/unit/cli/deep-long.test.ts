import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

function run(
  timeout: number,
  ...args: string[]
): { code: number | null; stdout: string; stderr: string; signal: string | null } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

const rec = (user: string): string =>
  JSON.stringify({
    messages: [
      { role: 'user', content: user },
      { role: 'assistant', content: 'ok' },
    ],
  });

describe('cli: records nested very deep, very long lines', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-deep-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('stats and convert report a record nested 100k deep at its line and column, and go on', () => {
    const file = path.join(dir, 'deep.jsonl');
    const head = rec('a').slice(0, -1) + ',"x":';
    const deep = head + '['.repeat(100_000) + ']'.repeat(100_000) + '}';
    writeFileSync(file, [rec('first'), deep, rec('last')].join('\n') + '\n');
    const col = head.length + 900; // the 900th '[' opens level 901 (the record itself is level 1)
    const s = run(60_000, 'stats', '--json', file);
    assert.equal(s.code, 1, s.stderr);
    const st = JSON.parse(s.stdout) as {
      records: number;
      invalid: { count: number; examples: { line: number; column: number; message: string }[] };
    };
    assert.equal(st.records, 2);
    assert.deepEqual(
      st.invalid.examples.map((e) => [e.line, e.column]),
      [[2, col]],
    );
    assert.match(st.invalid.examples[0].message, /nested deeper than 900 levels/);
    const out = path.join(dir, 'out.jsonl');
    const c = run(60_000, 'convert', '--to', 'sharegpt', '--keep-unknown', file, '-o', out);
    assert.equal(c.code, 1, c.stderr);
    assert.match(c.stderr, new RegExp(`deep\\.jsonl:2:${col}: error: nested deeper than 900 levels`));
    const lines = readFileSync(out, 'utf8').split('\n');
    assert.equal(lines[1], deep, 'the deep record is copied unchanged');
    assert.equal(lines.length, 4);
  });

  it('stats on a line of 32 MiB whose text has runs of a million letters finishes in seconds', () => {
    const file = path.join(dir, 'long.jsonl');
    const fd = openSync(file, 'w');
    try {
      writeSync(fd, '{"messages":[{"role":"user","content":"');
      const run1 = Buffer.alloc(1 << 20, 0x61);
      for (let i = 0; i < 32; i++) {
        run1[0] = 0x20;
        writeSync(fd, run1);
      }
      writeSync(fd, '"},{"role":"assistant","content":"ok"}]}\n' + rec('b') + '\n');
    } finally {
      closeSync(fd);
    }
    const s = run(60_000, 'stats', '--json', file);
    assert.equal(s.signal, null, 'stats did not finish within 60 s');
    assert.equal(s.code, 0, s.stderr);
    const st = JSON.parse(s.stdout) as {
      records: number;
      roles: Record<string, { tokens: number; chars: number }>;
    };
    assert.equal(st.records, 2);
    assert.equal(st.roles.user.chars, 32 * (1 << 20) + 1);
    // About one token per 8 letters, as the tokenizer counts a run of them.
    const tokens = st.roles.user.tokens;
    assert.ok(tokens > 32 * (1 << 17) * 0.9 && tokens < 32 * (1 << 17) * 1.1, `tokens ${tokens}`);
  });
});
