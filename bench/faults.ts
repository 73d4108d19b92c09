// The fault campaign: real faults and bad inputs thrown at the store, the CLI and the LLM client,
// seeded so a run can be repeated, counted per area as "tried" and "held". A fault holds when the
// promise it tests is kept (nothing lost, nothing leaked, a clear positioned error); every fault that
// does not hold is listed with what happened. Exit status 1 when any fault did not hold.
//
//   npm run faults            (PARROT_FAULT_SEED=N to vary the seed; PARROT_FAULT_ROUNDS=N for more)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  appendFileSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DatasetStore, SaveRefusedError } from '../src/core/store';
import { startOpenAIServer, type ChatCall } from '../test/support/openai-server';
import { mulberry32 } from '../test/support/random';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const DATA = path.join(ROOT, 'test', 'fixtures', 'datasets');
const SEED = Number(process.env.PARROT_FAULT_SEED ?? 2026);
const ROUNDS = Math.max(1, Number(process.env.PARROT_FAULT_ROUNDS ?? 1));
const random = mulberry32(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];

interface Tally {
  tried: number;
  held: number;
  failures: string[];
}
const tallies = new Map<string, Tally>();

/** Runs one fault: it holds when `body` returns without throwing. */
async function fault(area: string, name: string, body: () => Promise<void> | void): Promise<void> {
  const t = tallies.get(area) ?? { tried: 0, held: 0, failures: [] };
  tallies.set(area, t);
  t.tried++;
  try {
    await body();
    t.held++;
  } catch (e) {
    t.failures.push(`${name}: ${e instanceof Error ? e.message : String(e)}`.slice(0, 400));
  }
}

function check(ok: boolean, what: string): asserts ok {
  if (!ok) throw new Error(what);
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
let dirCount = 0;
const work = mkdtempSync(path.join(tmpdir(), 'parrot-faults-'));
const freshDir = (): string => {
  const d = path.join(work, String(dirCount++));
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  return d;
};

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** Runs the CLI; `killWhen` (polled every 3 ms) sends SIGKILL as soon as it is true. */
function cli(args: string[], opts: { killWhen?: () => boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const poll = opts.killWhen
      ? setInterval(() => {
          if (opts.killWhen?.()) {
            clearInterval(poll);
            child.kill('SIGKILL');
          }
        }, 3)
      : undefined;
    const limit = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code, signal) => {
      if (poll) clearInterval(poll);
      clearTimeout(limit);
      resolve({ code, signal, out, err });
    });
  });
}

function lines(file: string): string[] {
  if (!existsSync(file)) return [];
  const t = readFileSync(file, 'utf8');
  return t === '' ? [] : t.replace(/\n$/, '').split('\n');
}

// ---- 1. Saving over a file another program changed ----------------------------------------------

type Change =
  'rename-replace' | 'delete-recreate' | 'append' | 'truncate' | 'same-size-rewrite' | 'touch' | 'chmod';
const CHANGES: Change[] = [
  'rename-replace',
  'delete-recreate',
  'append',
  'truncate',
  'same-size-rewrite',
  'touch',
  'chmod',
];

function externalChange(file: string, change: Change): void {
  const b = readFileSync(file);
  switch (change) {
    case 'rename-replace': {
      const t = `${file}.other`;
      writeFileSync(t, b.toString('utf8').replace(/"/, '"'));
      renameSync(t, file);
      break;
    }
    case 'delete-recreate':
      unlinkSync(file);
      writeFileSync(file, b);
      break;
    case 'append':
      appendFileSync(file, b.subarray(0, b.indexOf(10) + 1));
      break;
    case 'truncate':
      truncateSync(file, Math.floor(b.length / 2));
      break;
    case 'same-size-rewrite': {
      // Moves a newline: same size, other record boundaries.
      const nl = b.indexOf(10, Math.floor(b.length / 3));
      const c = Buffer.from(b);
      c[nl] = 0x20;
      c[nl - 1] = 0x0a;
      writeFileSync(file, c);
      break;
    }
    case 'touch': {
      const later = new Date(Date.now() + 5000);
      utimesSync(file, later, later);
      break;
    }
    case 'chmod':
      chmodSync(file, 0o640);
      break;
  }
}

/** Records lost to Save As after in-place rewrites, reported beside the table. */
const lostCounts: string[] = [];

/** The records of a JSONL or JSON-array text, parsed. */
function records(text: string, file: string): unknown[] {
  if (file.endsWith('.json')) return JSON.parse(text) as unknown[];
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
}

async function saveConflicts(): Promise<void> {
  const sources = [
    { name: 'in.jsonl', from: path.join(DATA, 'fastchat_dummy_conversation.jsonl') },
    { name: 'in.json', from: path.join(DATA, 'containers', 'llamafactory_identity.json') },
    { name: 'in.json', from: path.join(DATA, 'containers', 'fastchat_dummy_conversation.json') },
  ];
  for (let round = 0; round < ROUNDS; round++) {
    for (const src of sources) {
      for (const change of CHANGES) {
        await fault('save over a changed file', `${path.basename(src.from)} ${change}`, async () => {
          const dir = freshDir();
          const file = path.join(dir, src.name);
          writeFileSync(file, readFileSync(src.from));
          const store = await DatasetStore.open(file);
          try {
            await store.indexed;
            const k = Math.floor(random() * store.lineCount);
            const rec = JSON.parse(await store.readLine(k)) as Record<string, unknown>;
            rec.fault_edit = round;
            store.apply({ kind: 'replace', index: k, texts: [JSON.stringify(rec)] });
            // What a save of these edits writes, taken before the other program acts.
            const reference = path.join(dir, 'reference' + path.extname(file));
            await store.saveAs(reference, { rebase: false });
            externalChange(file, change);
            const theirs = readFileSync(file);
            let refused: SaveRefusedError | undefined;
            try {
              await store.save();
            } catch (e) {
              if (!(e instanceof SaveRefusedError)) throw e;
              refused = e;
            }
            if (change === 'touch' || change === 'chmod') {
              check(
                refused === undefined,
                `a ${change} (no content change) blocked the save: ${refused?.message}`,
              );
              check(
                sha(readFileSync(file)) === sha(readFileSync(reference)),
                'the save wrote other bytes than expected',
              );
              if (change === 'chmod') check((statSync(file).mode & 0o777) === 0o640, 'the mode was not kept');
              return;
            }
            check(refused !== undefined, "the save went through over the other program's version");
            check(sha(readFileSync(file)) === sha(theirs), "the other program's version was changed");
            check(/Cannot save/.test(refused.message), `unclear refusal: ${refused.message}`);
            // Save As must still write the document: its edits plus the bytes the store holds open.
            // After an in-place rewrite some opened bytes are gone: Save As then names the records
            // it cannot write, and writes every other one once they are deleted.
            const elsewhere = path.join(dir, 'saved-as' + path.extname(file));
            let lost: SaveRefusedError | undefined;
            try {
              await store.saveAs(elsewhere, { rebase: false });
            } catch (e) {
              if (!(e instanceof SaveRefusedError) || e.reason !== 'unrecoverable') throw e;
              lost = e;
            }
            if (!lost) {
              check(
                sha(readFileSync(elsewhere)) === sha(readFileSync(reference)),
                'Save As wrote other bytes than the document',
              );
              return;
            }
            check(change === 'same-size-rewrite' || change === 'truncate', `Save As refused after ${change}`);
            const gone = lost.lostLines;
            check(gone !== undefined && gone.count > 0, 'an unrecoverable refusal names no records');
            const n = store.lineCount;
            lostCounts.push(`${change} ${path.basename(src.from)}: ${gone.count} of ${n} records`);
            store.apply({
              kind: 'splice',
              index: gone.first,
              deleteCount: gone.last - gone.first + 1,
              insert: [],
            });
            await store.saveAs(elsewhere, { rebase: false });
            const want = records(readFileSync(reference, 'utf8'), file);
            want.splice(gone.first, gone.last - gone.first + 1);
            check(
              JSON.stringify(records(readFileSync(elsewhere, 'utf8'), file)) === JSON.stringify(want),
              'Save As after deleting the lost records wrote other records',
            );
          } finally {
            await store.close();
          }
        });
      }
    }
  }
}

// ---- 2. kill -9 during a save ---------------------------------------------------------------------

async function killedSaves(): Promise<void> {
  const dir = freshDir();
  const file = path.join(dir, 'big.jsonl');
  const row = readFileSync(path.join(DATA, 'fastchat_dummy_conversation.jsonl'));
  const parts: Buffer[] = [];
  for (let size = 0; size < 24 << 20; size += row.length) parts.push(row);
  writeFileSync(file, Buffer.concat(parts));
  const child = path.join(ROOT, 'out', 'bench', 'faultsSave.child.js');
  const kills = 12 * ROUNDS;
  for (let i = 0; i < kills; i++) {
    await fault('kill -9 during a save', `kill ${i}`, async () => {
      const before = sha(readFileSync(file));
      const delay = Math.floor(random() * 400);
      const r = await new Promise<{ signal: NodeJS.Signals | null; out: string }>((resolve) => {
        const p = spawn(process.execPath, [child, file, String(i)], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        p.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('opened')) setTimeout(() => p.kill('SIGKILL'), delay);
        });
        p.on('close', (_c, signal) => resolve({ signal, out }));
      });
      const after = readFileSync(file);
      const expected = new Set([before]);
      // The child writes `{"killed":i}` over line 1: the saved version, if the rename happened.
      const firstNl = after.indexOf(10);
      if (after.subarray(0, firstNl).toString() === `{"killed":${i}}`) expected.add(sha(after));
      check(expected.has(sha(after)), 'the file is neither the old nor the new version (torn)');
      if (r.out.includes('saved'))
        check(after.subarray(0, firstNl).toString() === `{"killed":${i}}`, 'a finished save is missing');
    });
  }
  await fault('kill -9 during a save', 'stale temporary files are recognised and removed', async () => {
    const temps = readdirSync(dir).filter((n) => n.endsWith('.tmp'));
    // Temporary files of a killed save are stale once their process is gone and 5 minutes old.
    const old = new Date(Date.now() - 10 * 60_000);
    for (const t of temps) utimesSync(path.join(dir, t), old, old);
    const store = await DatasetStore.open(file);
    const removed = await store.staleTempFilesRemoved;
    await store.close();
    const left = readdirSync(dir).filter((n) => n.endsWith('.tmp'));
    check(
      left.length === 0,
      `temporary files left: ${left.join(', ')} (removed ${removed.length} of ${temps.length})`,
    );
  });
}

// ---- 3. Links, permissions, ownership ----------------------------------------------------------

async function linksAndModes(): Promise<void> {
  const src = readFileSync(path.join(DATA, 'llamafactory_identity.jsonl'));
  const edit = async (p: string, opts: { breakHardLinks?: boolean } = {}): Promise<unknown> => {
    const s = await DatasetStore.open(p);
    try {
      await s.indexed;
      s.apply({ kind: 'replace', index: 0, texts: ['{"instruction":"edited","input":"","output":"ok"}'] });
      await s.save(opts);
      return undefined;
    } catch (e) {
      return e;
    } finally {
      await s.close();
    }
  };
  const edited = (p: string): boolean => readFileSync(p, 'utf8').startsWith('{"instruction":"edited"');
  await fault('links, permissions, ownership', 'symlink: target written, link kept', async () => {
    const dir = freshDir();
    writeFileSync(path.join(dir, 'target.jsonl'), src);
    symlinkSync('target.jsonl', path.join(dir, 'link.jsonl'));
    check((await edit(path.join(dir, 'link.jsonl'))) === undefined, 'the save failed');
    check(lstatSync(path.join(dir, 'link.jsonl')).isSymbolicLink(), 'the link became a regular file');
    check(readlinkSync(path.join(dir, 'link.jsonl')) === 'target.jsonl', 'the link was retargeted');
    check(edited(path.join(dir, 'target.jsonl')), 'the target did not get the edit');
  });
  await fault('links, permissions, ownership', 'chain of two symlinks into another folder', async () => {
    const dir = freshDir();
    mkdirSync(path.join(dir, 'data'));
    writeFileSync(path.join(dir, 'data', 't.jsonl'), src);
    symlinkSync(path.join(dir, 'data', 't.jsonl'), path.join(dir, 'a.jsonl'));
    symlinkSync('a.jsonl', path.join(dir, 'b.jsonl'));
    check((await edit(path.join(dir, 'b.jsonl'))) === undefined, 'the save failed');
    check(
      lstatSync(path.join(dir, 'b.jsonl')).isSymbolicLink() &&
        lstatSync(path.join(dir, 'a.jsonl')).isSymbolicLink(),
      'a link was replaced',
    );
    check(edited(path.join(dir, 'data', 't.jsonl')), 'the final target did not get the edit');
    check(
      readdirSync(path.join(dir, 'data')).length === 1 && readdirSync(dir).length === 3,
      'files left beside the target',
    );
  });
  await fault(
    'links, permissions, ownership',
    'hard link: refused unless asked, then the other name keeps the old bytes',
    async () => {
      const dir = freshDir();
      writeFileSync(path.join(dir, 'a.jsonl'), src);
      linkSync(path.join(dir, 'a.jsonl'), path.join(dir, 'b.jsonl'));
      const e = await edit(path.join(dir, 'a.jsonl'));
      check(e instanceof SaveRefusedError && e.reason === 'hardlink', `not refused: ${String(e)}`);
      check(sha(readFileSync(path.join(dir, 'a.jsonl'))) === sha(src), 'the file changed on a refused save');
      check(
        (await edit(path.join(dir, 'a.jsonl'), { breakHardLinks: true })) === undefined,
        'breakHardLinks failed',
      );
      check(
        edited(path.join(dir, 'a.jsonl')) && sha(readFileSync(path.join(dir, 'b.jsonl'))) === sha(src),
        'wrong bytes after breaking',
      );
    },
  );
  for (const mode of [0o444, 0o400, 0o555]) {
    await fault(
      'links, permissions, ownership',
      `read-only ${mode.toString(8)} refused, not replaced`,
      async () => {
        const dir = freshDir();
        const p = path.join(dir, 'ro.jsonl');
        writeFileSync(p, src);
        chmodSync(p, mode);
        const ino = statSync(p).ino;
        const e = await edit(p);
        check(e instanceof SaveRefusedError && e.reason === 'readonly', `not refused: ${String(e)}`);
        check(
          statSync(p).ino === ino && sha(readFileSync(p)) === sha(src),
          'the read-only file was replaced',
        );
      },
    );
  }
  for (const mode of [0o600, 0o640, 0o664, 0o755, 0o2644]) {
    await fault('links, permissions, ownership', `mode ${mode.toString(8)} kept`, async () => {
      const dir = freshDir();
      const p = path.join(dir, 'm.jsonl');
      writeFileSync(p, src);
      chmodSync(p, mode);
      check((await edit(p)) === undefined, 'the save failed');
      check((statSync(p).mode & 0o7777) === mode, `mode is ${(statSync(p).mode & 0o7777).toString(8)}`);
    });
  }
  if (process.getuid?.() === 0) {
    await fault('links, permissions, ownership', 'owner and group kept (as root)', async () => {
      const dir = freshDir();
      const p = path.join(dir, 'o.jsonl');
      writeFileSync(p, src);
      chownSync(p, 1234, 2345);
      check((await edit(p)) === undefined, 'the save failed');
      const st = statSync(p);
      check(st.uid === 1234 && st.gid === 2345, `owner is ${st.uid}:${st.gid}`);
    });
  }
}

// ---- 4. Generation runs killed and resumed ------------------------------------------------------

interface ShareGpt {
  id: string;
  conversations: { from: string; value: string }[];
}

/** What identifies a pair: its prompt (TRL) or input (OpenAI preference). */
function pairKey(line: string): string {
  const p = JSON.parse(line) as { prompt?: unknown; input?: unknown };
  return JSON.stringify(p.prompt ?? p.input);
}

async function killAndResume(): Promise<void> {
  const server = await startOpenAIServer({
    recordRequests: false,
    responder: async ({ body, seq, choice }: ChatCall) => {
      await new Promise((r) => setTimeout(r, Math.floor(random() * 20)));
      const first = body.messages[0];
      const isAsk = first?.role === 'system' && String(first.content).includes('You are the user');
      return isAsk ? `Follow-up ${seq}.${choice}: and what about that?` : `Answer ${seq}.`;
    },
  });
  try {
    const src = lines(path.join(DATA, 'fastchat_dummy_conversation.jsonl')).slice(0, 20);
    const ids = src.map((l) => (JSON.parse(l) as ShareGpt).id);
    const ep = ['--base-url', server.baseUrl, '--asker-model', 'parrot-ask', '--answer-model', 'gpt-test'];
    const jobs: Array<{ name: string; args: (input: string, out: string) => string[]; side?: boolean }> = [
      { name: 'extend', args: (i, o) => ['extend', '--turns', '4', '-o', o, ...ep, i] },
      { name: 'capo trl', args: (i, o) => ['capo', '--turns', 'all', '-o', o, ...ep, i] },
      {
        name: 'capo openai-preference',
        args: (i, o) => ['capo', '--turns', 'all', '--format', 'openai-preference', '-o', o, ...ep, i],
        side: true,
      },
    ];
    for (let round = 0; round < 2 * ROUNDS; round++) {
      for (const job of jobs) {
        await fault('generation killed and resumed', `${job.name} run ${round}`, async () => {
          const dir = freshDir();
          const input = path.join(dir, 'in.jsonl');
          writeFileSync(input, src.join('\n') + '\n');
          const out = path.join(dir, 'out.jsonl');
          // A clean run gives the expected record count per input record.
          const cleanOut = path.join(dir, 'clean.jsonl');
          const clean = await cli(job.args(input, cleanOut));
          check(clean.code === 0, `clean run exit ${clean.code}: ${clean.err.slice(-300)}`);
          const total = lines(cleanOut).length;
          let resume = false;
          for (let k = 0; k < 4; k++) {
            const at = 1 + Math.floor(random() * Math.max(1, total - 1));
            const r = await cli(resume ? [...job.args(input, out), '--resume'] : job.args(input, out), {
              killWhen: () => lines(out).length >= at,
            });
            resume = true;
            if (r.signal !== 'SIGKILL') break;
          }
          const last = await cli([...job.args(input, out), '--resume']);
          check(
            last.code === 0 || /the run finished/.test(last.err),
            `final resume exit ${last.code}: ${last.err.slice(-300)}`,
          );
          const got = lines(out);
          check(got.length === total, `${got.length} output lines, a clean run writes ${total}`);
          if (job.name === 'extend') {
            const order = got.map((l) => (JSON.parse(l) as ShareGpt).id);
            check(JSON.stringify(order) === JSON.stringify(ids), 'records out of input order or repeated');
            for (const l of got) {
              const c = (JSON.parse(l) as ShareGpt).conversations;
              check(c.filter((m) => m.from === 'human').length === 4, 'a record is short of its turns');
              check(c[c.length - 1]?.from === 'gpt', 'a record ends with an unanswered question');
            }
          } else {
            const keys = got.map(pairKey);
            // Several pairs share a prompt (one per strategy), so pairs are compared as a sequence:
            // the clean run's prompts in the clean run's order, none missing, none twice.
            const cleanKeys = lines(cleanOut).map(pairKey);
            check(
              JSON.stringify(keys) === JSON.stringify(cleanKeys),
              "pairs repeated, missing or out of the clean run's order",
            );
          }
          if (job.side) {
            const side = lines(`${out}.provenance.jsonl`);
            check(side.length === got.length, `${side.length} provenance lines for ${got.length} pairs`);
          }
        });
      }
    }
  } finally {
    await server.close();
  }
}

// ---- 5. Secrets -----------------------------------------------------------------------------------

async function secrets(): Promise<void> {
  const KEY = 'sk-fault' + sha(String(SEED)).slice(0, 24);
  const input = path.join(freshDir(), 'in.jsonl');
  writeFileSync(
    input,
    lines(path.join(DATA, 'fastchat_dummy_conversation.jsonl')).slice(0, 3).join('\n') + '\n',
  );
  const echoes = [
    (k: string) => `Incorrect API key provided: ${k}`,
    (k: string) => `Authorization: Bearer ${k} was rejected`,
    (k: string) => `upstream https://user:${k}@proxy.internal/v1 failed`,
    (k: string) => `key ${k.slice(0, 3)}…${k.slice(3)}`, // split: must not print the joined key anyway
  ];
  for (const status of [400, 401, 403, 429, 500, 503]) {
    for (const cmd of ['extend', 'capo', 'eval']) {
      const echo = pick(echoes);
      await fault('secrets', `${cmd}: HTTP ${status} echoing the key`, async () => {
        const server = await startOpenAIServer({});
        try {
          server.inject({ type: 'status', status, message: echo(KEY) }, 1000);
          const o = path.join(path.dirname(input), `${cmd}-${status}.jsonl`);
          const common = ['--base-url', server.baseUrl, '--api-key-env', 'FAULT_KEY', '--retries', '1'];
          const args =
            cmd === 'extend'
              ? ['extend', '--turns', '2', '-o', o, ...common, input]
              : cmd === 'capo'
                ? ['capo', '--turns', 'all', '-o', o, ...common, input]
                : [
                    'eval',
                    path.join(DATA, 'mt_bench_questions.jsonl'),
                    '-o',
                    o,
                    '--model',
                    'm',
                    '--judge-model',
                    'j',
                    ...common,
                  ];
          const r = await cli(args, { env: { FAULT_KEY: KEY } });
          check(r.code !== 0, 'exit 0 although every request failed');
          const all = r.out + r.err + (existsSync(o) ? readFileSync(o, 'utf8') : '');
          check(!all.includes(KEY), 'the key was printed or written');
          check(!all.includes(KEY.slice(3)), 'the key (without its prefix) was printed');
        } finally {
          await server.close();
        }
      });
    }
  }
  for (const status of [301, 302, 303, 307, 308]) {
    await fault('secrets', `redirect ${status} to another origin`, async () => {
      const other = await startOpenAIServer({});
      const server = await startOpenAIServer({});
      try {
        server.inject({ type: 'redirect', status, location: `${other.baseUrl}/chat/completions` }, 1000);
        const o = path.join(path.dirname(input), `redirect-${status}.jsonl`);
        await cli(
          [
            'extend',
            '--turns',
            '2',
            '-o',
            o,
            '--base-url',
            server.baseUrl,
            '--api-key-env',
            'FAULT_KEY',
            '--retries',
            '0',
            input,
          ],
          {
            env: { FAULT_KEY: KEY },
          },
        );
        const leaked = other.requests.filter(
          (r) =>
            JSON.stringify(r.headers).includes(KEY) ||
            (r.method === 'POST' && JSON.stringify(r.body ?? '').length > 2),
        );
        check(
          leaked.length === 0,
          `${leaked.length} requests with the key or the dataset reached the other origin`,
        );
      } finally {
        await server.close();
        await other.close();
      }
    });
  }
}

// ---- 6. Validation verdicts ----------------------------------------------------------------------

async function verdicts(): Promise<void> {
  const good = lines(path.join(DATA, 'fastchat_dummy_conversation.jsonl')).slice(0, 5);
  const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
  const bad: Array<{ name: string; bytes: () => Buffer; line: number; rule?: RegExp; stats?: boolean }> = [];
  const at = (n: number, b: Buffer): Buffer =>
    Buffer.concat([
      utf8(good.slice(0, n).join('\n') + '\n'),
      b,
      utf8('\n' + good.slice(n).join('\n') + '\n'),
    ]);
  for (const k of [0, 2, 5]) {
    const broken = utf8(good[0]);
    const pos = 20 + Math.floor(random() * (broken.length - 40));
    const bytes = pick([
      [0xff],
      [0xc3],
      [0xe2, 0x82],
      [0xed, 0xa0, 0x80],
      [0xc0, 0xaf],
      [0xf8, 0x88, 0x80, 0x80],
    ]);
    bad.push({
      name: `invalid UTF-8 ${Buffer.from(bytes).toString('hex')} in line ${k + 1}`,
      bytes: () => at(k, Buffer.concat([broken.subarray(0, pos), Buffer.from(bytes), broken.subarray(pos)])),
      line: k + 1,
      stats: true,
    });
  }
  for (const [name, text] of [
    ['NUL line', '\u0000\u0000'],
    ['control characters', '\u0001\u0002\u001f'],
    ['NBSP only', '\u00a0\u00a0'],
    ['ideographic spaces only', '\u3000'],
    ['BOM in the middle', '\ufeff' + good[1]],
    ['truncated record', good[1].slice(0, 40)],
    ['two records on a line', `${good[1]}${good[2]}`],
    ['record nested 100k deep', '['.repeat(100_000) + ']'.repeat(100_000)],
    [
      'OpenAI role the API rejects',
      '{"messages":[{"role":"gpt","content":"x"},{"role":"assistant","content":"y"}]}',
    ],
    ['trailing comma', '{"conversations":[{"from":"human","value":"a"},],}'],
  ] as const) {
    bad.push({ name, bytes: () => at(3, utf8(text)), line: 4, stats: name !== 'BOM in the middle' });
  }
  bad.push({
    name: 'UTF-16 LE file with BOM',
    bytes: () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(good.join('\n'), 'utf16le')]),
    line: 1,
  });
  for (const b of bad) {
    await fault('validation verdicts', b.name, async () => {
      const dir = freshDir();
      const file = path.join(dir, 'bad.jsonl');
      const bytes = b.bytes();
      writeFileSync(file, bytes);
      for (const workers of ['1', '2']) {
        const r = await cli(['validate', '--workers', workers, file]);
        check(r.code === 2 || r.code === 1, `validate --workers ${workers} exit ${r.code}`);
        const re = new RegExp(`bad\\.jsonl:${b.line}(:\\d+)?`);
        check(
          re.test(r.out + r.err),
          `validate --workers ${workers} gave no position at line ${b.line}: ${(r.out + r.err).slice(0, 300)}`,
        );
      }
      const c = await cli(['convert', '--to', 'openai', '-o', path.join(dir, 'out.jsonl'), file]);
      // Convert refuses the line (exit 1), or, for a record it copies as it is, reports what the
      // target cannot hold at its line.
      check(
        c.code !== 0 || new RegExp(`bad\\.jsonl:${b.line}: lost: `).test(c.err),
        `convert exit 0 on a bad line, nothing reported`,
      );
      check(
        !/RangeError|Maximum call stack|at .*\.js:\d+/.test(c.err),
        `convert crashed: ${c.err.slice(0, 200)}`,
      );
      if (b.stats) {
        const s = await cli(['stats', '--no-tokens', file]);
        check(
          !/RangeError|Maximum call stack|at .*\.js:\d+/.test(s.err),
          `stats crashed: ${s.err.slice(0, 200)}`,
        );
      }
      check(sha(readFileSync(file)) === sha(bytes), 'a read-only command changed the file');
    });
  }
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error('Build first (npm run build): dist/cli.js is missing.');
  const areas: Array<[string, () => Promise<void>]> = [
    ['save over a changed file', saveConflicts],
    ['kill -9 during a save', killedSaves],
    ['links, permissions, ownership', linksAndModes],
    ['generation killed and resumed', killAndResume],
    ['secrets', secrets],
    ['validation verdicts', verdicts],
  ];
  const only = process.argv[2];
  for (const [name, run] of areas) {
    if (only && !name.includes(only)) continue;
    const t0 = Date.now();
    await run();
    process.stderr.write(`${name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  rmSync(work, { recursive: true, force: true });
  let tried = 0;
  let held = 0;
  console.log(`Fault campaign, seed ${SEED}, ${ROUNDS} round(s)\n`);
  console.log('| area | tried | held |');
  console.log('| --- | ---: | ---: |');
  for (const [area, t] of tallies) {
    console.log(`| ${area} | ${t.tried} | ${t.held} |`);
    tried += t.tried;
    held += t.held;
  }
  console.log(`| **total** | **${tried}** | **${held}** |`);
  if (lostCounts.length)
    console.log(`\nRecords Save As could not write after in-place rewrites: ${lostCounts.join('; ')}`);
  const failed = [...tallies.entries()].flatMap(([a, t]) => t.failures.map((f) => `- ${a}: ${f}`));
  if (failed.length) {
    console.log(`\nDid not hold:\n${failed.join('\n')}`);
    process.exitCode = 1;
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(2);
});
