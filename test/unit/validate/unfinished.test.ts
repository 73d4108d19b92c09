import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { validateFile } from '../../../src/core/validate';

/** The line (0-based) an unfinished validation names. */
function lineOf(e: unknown): number | undefined {
  return e instanceof Error ? (e as Error & { line?: number }).line : undefined;
}

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const WORKER = join(ROOT, 'dist', 'validate.worker.js');
const REC = JSON.stringify({
  messages: [
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: 'hello' },
  ],
});

/**
 * A stand-in worker: answers every part but the first at once, and fails the first one afterwards
 * (`mode` error: an error answer; exit: the thread ends).
 */
function fakeWorker(dir: string, mode: 'error' | 'exit'): string {
  const path = join(dir, `fake-${mode}.js`);
  writeFileSync(
    path,
    `const { parentPort } = require('node:worker_threads');
const empty = (T) => new T(0);
parentPort.on('message', (m) => {
  if (m.type === 'task' && m.task.id === 0) {
    setTimeout(() => ${mode === 'error' ? "parentPort.postMessage({ type: 'error', id: 0, message: 'boom' })" : 'process.exit(3)'}, 300);
    return;
  }
  parentPort.postMessage({ type: 'result', result: { id: m.task.id, lines: 1, diagnostics: [], total: 0, errors: 0,
    factLine: empty(Uint32Array), factOffset: empty(Float64Array), format: empty(Int8Array), idHash: empty(Float64Array),
    dialogueKey: empty(Float64Array), dialogueFull: empty(Float64Array), kinds: empty(Uint8Array),
    recStart: empty(Uint32Array), recEnd: empty(Uint32Array) } });
});
`,
  );
  return path;
}

describe('validate/unfinished work', function () {
  this.timeout(60000);
  let dir: string;
  let twoParts: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ps-unfinished-'));
    // Over 1 MiB: validateFile splits it into two parts for two workers.
    twoParts = join(dir, 'two.jsonl');
    const n = Math.ceil((1.5 * (1 << 20)) / (REC.length + 1));
    writeFileSync(twoParts, Array.from({ length: n }, () => REC).join('\n') + '\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const mode of ['error', 'exit'] as const) {
    it(`a worker that fails (${mode}) after the other parts are done rejects with the line of its part, never hangs`, async () => {
      const err = await validateFile(twoParts, {
        workers: 2,
        minWorkerBytes: 0,
        workerScript: fakeWorker(dir, mode),
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(
        err instanceof Error && err.name === 'UnfinishedError',
        `expected an UnfinishedError, got ${String(err)}`,
      );
      assert.equal(lineOf(err), 0);
      assert.match(err.message, mode === 'error' ? /^line 1: boom/ : /^line 1: .*exited with code 3/);
    });
  }

  it('a line longer than the limit stops the validation at that line, in-process and with workers', async () => {
    const path = join(dir, 'long.jsonl');
    const long = JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(1.2 * (1 << 20)) }] });
    writeFileSync(path, [REC, REC, long, '{bad', REC].join('\n') + '\n');
    for (const workers of [1, 2]) {
      await assert.rejects(
        validateFile(path, { workers, minWorkerBytes: 0, maxLineBytes: 1 << 20, workerScript: WORKER }),
        (e: unknown) =>
          e instanceof Error && lineOf(e) === 2 && /^line 3: a line of [\d,]+ bytes/.test(e.message),
      );
    }
  });

  it('CLI: a line over 512 MiB followed by a bad line exits 2 with FILE:LINE, with and without workers', function () {
    this.timeout(120000);
    const path = join(dir, 'huge.jsonl');
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, REC + '\n');
      // A sparse run of NUL bytes: one line of 513 MiB that takes no disk space.
      writeSync(fd, '{bad\n', 1 + REC.length + 513 * (1 << 20));
    } finally {
      closeSync(fd);
    }
    for (const workers of ['1', '2']) {
      const r = spawnSync(process.execPath, [CLI, 'validate', '--workers', workers, path], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 2, `--workers ${workers}: ${r.stderr}`);
      assert.match(r.stderr, /huge\.jsonl:2: a line longer than 512 MiB: too long to check/);
    }
  });
});
