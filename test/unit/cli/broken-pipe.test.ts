import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

/**
 * Runs the CLI and closes its stdout after the first chunk, as `| head -n 1` does; resolves with
 * its exit status and what it wrote on stderr.
 */
function readFirstChunk(
  args: string[],
): Promise<{ code: number | null; stderr: string; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('the command did not end after its stdout was closed'));
    }, 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, stderr, signal });
    });
  });
}

describe('cli: a reader that closes the pipe early (| head)', function () {
  this.timeout(60_000);
  let dir: string;
  let file: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-pipe-'));
    file = path.join(dir, 'many.jsonl');
    // Far more output than a pipe buffer holds (64 KiB), so that writes go on after the reader left.
    const lines: string[] = [];
    for (let i = 0; i < 40_000; i++)
      lines.push(
        JSON.stringify({
          id: `r${i}`,
          conversations: [
            { from: 'human', value: `question ${i}` },
            { from: 'gpt', value: `answer ${i}` },
          ],
        }),
      );
    writeFileSync(file, lines.join('\n') + '\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const args of [
    ['stats', '--tokenizer', 'o200k', '--per-record'],
    ['convert', '--to', 'openai'],
  ])
    it(`parrot ${args.join(' ')} ends quietly, status 0`, async () => {
      const r = await readFirstChunk([...args, file]);
      assert.equal(r.signal, null);
      assert.doesNotMatch(r.stderr, /EPIPE|Error|at /);
      assert.equal(r.stderr, '');
      assert.equal(r.code, 0);
    });
});
