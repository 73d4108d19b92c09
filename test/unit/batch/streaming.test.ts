// `parrot batch export` / `import` on inputs larger than the heap they are given: the job state keeps
// positions and hashes, never dialogue text, and every round streams the source. The CLI runs in a
// child process with a small V8 heap (an implementation that holds the input dies there) and its
// peak resident memory is measured from /proc for two input sizes.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  createReadStream,
} from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const HEAP_MB = 64;

/** Writes `n` dialogues of ~40 KB each (a long user question and answer). */
async function bigInput(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) {
    const text = `topic${i} `.repeat(2000).slice(0, 20_000);
    const line = JSON.stringify({
      messages: [
        { role: 'user', content: `Question ${i}: ${text}` },
        { role: 'assistant', content: `Answer ${i}: ${text}` },
      ],
    });
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

/** Runs the CLI with a small heap; returns its exit code, stderr and peak RSS (VmHWM, MiB). */
function runSmall(args: string[]): Promise<{ code: number | null; err: string; peakMb: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, CLI, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    let peakKb = 0;
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        // exited
      }
    }, 20);
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({ code, err, peakMb: peakKb / 1024 });
    });
  });
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const l of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) if (l) n++;
  return n;
}

describe('batch export/import stream the source (memory flat in input size)', function () {
  this.timeout(240_000);
  let dir: string;
  before(function () {
    if (!existsSync('/proc/self/status') || !existsSync(CLI)) this.skip();
    dir = mkdtempSync(path.join(tmpdir(), 'parrot-batch-big-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`exports and imports a 120 MB input with a ${HEAP_MB} MiB heap; peak RSS does not grow with the input`, async () => {
    const ep = ['--base-url', 'http://127.0.0.1:9/v1'];
    const sizes = [1000, 3000];
    const peaks: number[] = [];
    for (const n of sizes) {
      const input = path.join(dir, `in${n}.jsonl`);
      await bigInput(input, n);
      const job = path.join(dir, `job${n}`);
      const r = await runSmall(['batch', 'export', 'extend', input, '--turns', '2', '--job', job, ...ep]);
      assert.equal(r.code, 0, r.err.slice(-2000));
      assert.equal(await countLines(`${job}.round1.requests.jsonl`), n);
      const state = readFileSync(`${job}.state.json`, 'utf8');
      assert.ok(!state.includes('topic1 topic1'), 'no dialogue text in the state');
      assert.ok(
        statSync(`${job}.state.json`).size < 200 * n,
        `state ${statSync(`${job}.state.json`).size} B`,
      );
      peaks.push(r.peakMb);
      if (n !== sizes[sizes.length - 1]) {
        rmSync(`${job}.round1.requests.jsonl`);
        continue;
      }
      // Import round 1 (a follow-up question per record, filtered against its dialogue read again
      // by position) and write round 2, with the same small heap.
      const results = path.join(dir, 'results.jsonl');
      const out = createWriteStream(results);
      for (let i = 1; i <= n; i++)
        out.write(
          `${JSON.stringify({
            custom_id: `job${n}/r${i}/s1/ask`,
            response: {
              status_code: 200,
              body: { choices: [{ message: { content: `And what did record ${i} change afterwards?` } }] },
            },
            error: null,
          })}\n`,
        );
      out.end();
      await once(out, 'close');
      const imp = await runSmall(['batch', 'import', job, '--results', results, ...ep]);
      assert.equal(imp.code, 0, imp.err.slice(-2000));
      assert.match(imp.err, new RegExp(`round 1: ${n} result\\(s\\) imported, 0 failed`));
      assert.equal(await countLines(`${job}.round2.requests.jsonl`), n);
      const second = readFileSync(`${job}.round2.requests.jsonl`, 'utf8').split('\n', 1)[0];
      assert.match(second, /And what did record 1 change afterwards\?/);
      peaks.push(imp.peakMb);
    }
    const [small, large, importPeak] = peaks;
    // The large input is 80 MB bigger; holding it would add at least that much.
    assert.ok(large - small < 30, `peak RSS ${small.toFixed(0)} MiB -> ${large.toFixed(0)} MiB`);
    assert.ok(importPeak - small < 40, `import peak RSS ${importPeak.toFixed(0)} MiB`);
  });
});
