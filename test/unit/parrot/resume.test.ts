// `parrot extend` and `parrot capo` killed with SIGKILL at many points and resumed: every input
// record exactly once, in input order, provenance lines aligned with their pairs; records left short
// by failed requests are retried by --resume and keep the exit status non-zero until they are done.
// Real child processes against the loopback OpenAI-compatible server.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startOpenAIServer, type ChatCall, type TestOpenAIServer } from '../../support/openai-server';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = process.env.PARROT_CLI ?? path.join(ROOT, 'dist', 'cli.js');
const FASTCHAT = path.join(datasetsIn(ROOT), 'fastchat_dummy_conversation.jsonl');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  err: string;
  out: string;
}

/** A seeded pseudo-random source (mulberry32), so each run's timing pattern is reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function lineCount(file: string): number {
  if (!existsSync(file)) return 0;
  const b = readFileSync(file);
  let n = 0;
  for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) n++;
  return n;
}

/** Runs the CLI; with `killWhen`, sends SIGKILL as soon as it is true (checked every few ms). */
function run(
  args: string[],
  killWhen?: () => boolean,
  timeoutMs = 60_000,
  node: string[] = [],
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...node, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const poll = killWhen
      ? setInterval(() => {
          if (killWhen()) {
            clearInterval(poll);
            child.kill('SIGKILL');
          }
        }, 3)
      : undefined;
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`parrot ${args[0]} did not finish within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      if (poll) clearInterval(poll);
      clearTimeout(limit);
      resolve({ code, signal, err, out });
    });
  });
}

interface ShareGpt {
  id: string;
  conversations: { from: string; value: string }[];
}

describe('generation output: kill -9 at many points, then --resume', function () {
  this.timeout(240_000);
  let server: TestOpenAIServer;
  let dir: string;
  let ep: string[];
  let input: string;
  let source: ShareGpt[];
  const random = rng(9);
  before(function () {
    if (!existsSync(CLI)) this.skip();
  });
  beforeEach(async () => {
    // Answers take 0-25 ms at random, so records finish out of input order.
    server = await startOpenAIServer({
      responder: async ({ body, seq, choice }: ChatCall) => {
        await new Promise((r) => setTimeout(r, Math.floor(random() * 25)));
        const first = body.messages[0];
        const isAsk = first?.role === 'system' && String(first.content).includes('You are the user');
        return isAsk ? `Follow-up ${seq}.${choice}: and what about that?` : `Answer ${seq}.`;
      },
    });
    dir = mkdtempSync(path.join(tmpdir(), 'parrot-resume-'));
    ep = ['--base-url', server.baseUrl, '--asker-model', 'parrot-ask', '--answer-model', 'gpt-test'];
    const lines = readFileSync(FASTCHAT, 'utf8').trimEnd().split('\n').slice(0, 24);
    input = path.join(dir, 'in.jsonl');
    writeFileSync(input, lines.join('\n') + '\n');
    source = lines.map((l) => JSON.parse(l) as ShareGpt);
  });
  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A resume after a kill that landed once the run had finished (its progress file removed). */
  const finishedEarlier = (r: Run): boolean => r.code === 2 && /is missing \(the run finished/.test(r.err);

  /**
   * Kills a run at each point (a line count of `watch`, or "a request reached the server"), resumes
   * after each kill, and finally runs --resume to completion. Returns how many kills landed.
   */
  async function killAndResume(args: string[], watch: string, points: number[]): Promise<number> {
    let kills = 0;
    let resume = false;
    for (const p of points) {
      const before = server.received;
      const r = await run(resume ? [...args, '--resume'] : args, () =>
        p === 0 ? server.received > before : lineCount(watch) >= p,
      );
      resume = true;
      if (r.signal === 'SIGKILL') kills++;
      else {
        if (!finishedEarlier(r)) assert.equal(r.code, 0, r.err);
        return kills;
      }
    }
    const last = await run([...args, '--resume']);
    // A kill that lands after the run finished (progress file already removed) leaves a complete
    // output: the resume then says so and exits 2; the caller checks the output is complete.
    if (!(last.code === 2 && /is missing \(the run finished/.test(last.err)))
      assert.equal(last.code, 0, last.err);
    return kills;
  }

  it('extend: every record once, in input order, fully extended', async () => {
    const out = path.join(dir, 'ext.jsonl');
    const args = ['extend', ...ep, '--retries', '0', '--turns', '3', '--concurrency', '6', '-o', out, input];
    const kills = await killAndResume(args, out, [0, 0, 1, 2, 4, 5, 7, 9, 12, 15, 18, 21, 23]);
    assert.ok(kills >= 8, `only ${kills} kills landed`);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    const got = lines.map((l) => JSON.parse(l) as ShareGpt);
    assert.deepEqual(
      got.map((x) => x.id),
      source.map((x) => x.id),
    );
    for (const [i, x] of got.entries()) {
      const src = source[i];
      assert.deepEqual(x.conversations.slice(0, src.conversations.length), src.conversations, x.id);
      assert.equal(x.conversations.filter((t) => t.from === 'human').length >= 3, true, x.id);
      assert.equal(x.conversations.at(-1)?.from, 'gpt', x.id);
    }
    assert.equal(existsSync(`${out}.progress.json`), false, 'a finished run leaves no progress file');
  });

  it('capo --format openai-preference: every pair once, in order, provenance line aligned', async () => {
    const common = ['--turns', 'all', '--strategies', 'neglect,hallucinate', '--format', 'openai-preference'];
    const ref = path.join(dir, 'ref.jsonl');
    const clean = await run(['capo', ...ep, ...common, '--concurrency', '6', '-o', ref, input]);
    assert.equal(clean.code, 0, clean.err);
    const keys = (f: string): string[] =>
      readFileSync(`${f}.provenance.jsonl`, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => {
          const m = JSON.parse(l) as { strategy: string; source: { record: number; turn: number } };
          return `${m.source.record}:${m.source.turn}:${m.strategy}`;
        });
    const expected = keys(ref);
    const out = path.join(dir, 'capo.jsonl');
    const args = ['capo', ...ep, ...common, '--retries', '0', '--concurrency', '6', '-o', out, input];
    const kills = await killAndResume(args, `${out}.provenance.jsonl`, [0, 1, 3, 6, 10, 15, 20, 26, 33, 40]);
    assert.ok(kills >= 6, `only ${kills} kills landed`);
    assert.deepEqual(keys(out), expected, 'the same pairs, once each, in the same order');
    assert.ok(expected.length > 40, `${expected.length} pairs`);
    // Each pair line belongs to the record and turn its provenance line names.
    const pairs = readFileSync(out, 'utf8').trimEnd().split('\n');
    const side = readFileSync(`${out}.provenance.jsonl`, 'utf8').trimEnd().split('\n');
    assert.equal(pairs.length, side.length);
    for (const [i, l] of pairs.entries()) {
      const pair = JSON.parse(l) as {
        input: { messages: { content: string }[] };
        preferred_output: { content: string }[];
      };
      const m = JSON.parse(side[i]) as { source: { file: string; record: number; turn: number } };
      const rec = source[m.source.record - 1];
      assert.equal(
        pair.input.messages.at(-1)?.content,
        rec.conversations[m.source.turn - 2]?.value,
        `line ${i + 1}`,
      );
      assert.equal(
        pair.preferred_output[0]?.content,
        rec.conversations[m.source.turn - 1]?.value,
        `line ${i + 1}`,
      );
      assert.equal(m.source.file, 'in.jsonl', 'provenance names the source relative to the output');
    }
  });

  it('a 429 storm leaves records short: exit 1, and --resume retries exactly those', async () => {
    const out = path.join(dir, 'storm.jsonl');
    const args = ['extend', ...ep, '--retries', '0', '--turns', '2', '--concurrency', '4', '-o', out, input];
    server.inject({ type: 'status', status: 429 }, 12);
    const first = await run(args);
    assert.equal(first.code, 1, first.err);
    assert.match(first.err, /short/);
    const short = (JSON.parse(readFileSync(`${out}.progress.json`, 'utf8')) as { failed: unknown[] }).failed
      .length;
    assert.ok(short > 0);
    server.clearFaults(); // the storm is over
    const second = await run([...args, '--resume']);
    assert.equal(second.code, 0, second.err);
    assert.match(second.err, new RegExp(`retrying ${short} that were short`));
    const got = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as ShareGpt);
    assert.deepEqual(
      got.map((x) => x.id),
      source.map((x) => x.id),
    );
    for (const x of got) assert.ok(x.conversations.filter((t) => t.from === 'human').length >= 2, x.id);
    const third = await run([...args, '--resume']);
    assert.equal(third.code, 2, 'a finished output has nothing to resume');
  });

  it('capo: records short after a 429 storm are made again in place, provenance still aligned', async () => {
    const common = ['--turns', 'all', '--strategies', 'neglect,hallucinate', '--format', 'openai-preference'];
    const ref = path.join(dir, 'ref.jsonl');
    assert.equal((await run(['capo', ...ep, ...common, '-o', ref, input])).code, 0);
    const out = path.join(dir, 'storm.jsonl');
    const args = ['capo', ...ep, ...common, '--retries', '0', '--concurrency', '4', '-o', out, input];
    server.inject({ type: 'status', status: 429 }, 25);
    const first = await run(args);
    assert.equal(first.code, 1, first.err);
    assert.match(first.err, /record\(s\) short — --resume retries them/);
    server.clearFaults();
    // A kill during the repair's resume, then a resume that completes it.
    const killed = await run([...args, '--resume'], () => server.received > 0 && lineCount(out) > 0);
    assert.ok(killed.signal === 'SIGKILL' || killed.code === 0, killed.err);
    const last = await run([...args, '--resume']);
    assert.ok(last.code === 0 || (killed.code === 0 && last.code === 2), last.err);
    const keys = (f: string): string[] =>
      readFileSync(`${f}.provenance.jsonl`, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => {
          const m = JSON.parse(l) as { strategy: string; source: { record: number; turn: number } };
          return `${m.source.record}:${m.source.turn}:${m.strategy}`;
        });
    assert.deepEqual(keys(out), keys(ref));
    const pairs = readFileSync(out, 'utf8').trimEnd().split('\n');
    const side = readFileSync(`${out}.provenance.jsonl`, 'utf8').trimEnd().split('\n');
    assert.equal(pairs.length, side.length);
    for (const [i, l] of pairs.entries()) {
      const pair = JSON.parse(l) as { preferred_output: { content: string }[] };
      const m = JSON.parse(side[i] ?? '') as { source: { record: number; turn: number } };
      assert.equal(
        pair.preferred_output[0]?.content,
        source[m.source.record - 1]?.conversations[m.source.turn - 1]?.value,
        `line ${i + 1}`,
      );
    }
  });

  it('an unreadable progress file is an error, never "start from 0"', async () => {
    const out = path.join(dir, 'bad.jsonl');
    const args = ['capo', ...ep, '--turns', 'all', '--strategies', 'neglect', '-o', out, input];
    const first = await run(args, () => lineCount(out) >= 3);
    assert.equal(first.signal, 'SIGKILL');
    writeFileSync(`${out}.progress.json`, '{"version":2,"inp');
    const size = statSync(out).size;
    const before = server.received;
    const r = await run([...args, '--resume']);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /progress\.json is unreadable/);
    assert.equal(server.received, before, 'no request made');
    assert.equal(statSync(out).size, size, 'the output is left alone');
  });

  it('a server error that echoes the key never reaches stderr (extend and capo)', async () => {
    const key = 'k3y-that-looks-like-nothing-special';
    process.env.PARROT_TEST_KEY = key;
    try {
      const auth = ['--api-key-env', 'PARROT_TEST_KEY', '--retries', '0'];
      for (const cmd of [
        ['extend', ...ep, ...auth, '--turns', '2', '-o', path.join(dir, 'k1.jsonl'), input],
        ['capo', ...ep, ...auth, '--turns', 'all', '-o', path.join(dir, 'k2.jsonl'), input],
      ]) {
        server.inject({ type: 'status', status: 500, message: `invalid key ${key} (Bearer ${key})` }, 30);
        const r = await run(cmd);
        assert.equal(r.code, 1, r.err);
        assert.match(r.err, /\[redacted\]/);
        assert.ok(!r.err.includes(key), r.err);
        server.clearFaults();
      }
    } finally {
      delete process.env.PARROT_TEST_KEY;
    }
  });

  it('extend --estimate streams: a 60 MB file in a 64 MB heap', async () => {
    const big = path.join(dir, 'big.jsonl');
    const chunk = readFileSync(FASTCHAT);
    const fh = await import('node:fs/promises').then((f) => f.open(big, 'w'));
    let records = 0;
    const perChunk = chunk.toString('utf8').trimEnd().split('\n').length;
    for (let size = 0; size < 60 * 1024 * 1024; size += chunk.length) {
      await fh.write(chunk);
      records += perChunk;
    }
    await fh.close();
    const r = await run(['extend', '--estimate', '--turns', '3', big], undefined, 120_000, [
      '--max-old-space-size=64',
    ]);
    assert.equal(r.code, 0, r.err.slice(-500));
    assert.match(r.out, new RegExp(`^${records} record\\(s\\)`));
  });
});
