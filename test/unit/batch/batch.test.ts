import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  capoEntry,
  createCapoJob,
  createExtendJob,
  customId,
  extendEntry,
  grownDialogue,
  jobPairs,
  sourceRecords,
  sourceRef,
  exportRound,
  importRound,
  jobPaths,
  jobStateProblems,
  loadState,
  parseCustomId,
  parseResults,
  runJob,
  submitRound,
  type JobState,
  type StoredSettings,
} from '../../../src/core/batch';
import { LlmClient, resolveConfig } from '../../../src/core/llm';
import { parseRecord } from '../../../src/core/formats';
import type { CapoStrategy, Dialogue, PreferencePair } from '../../../src/core/model';
import { startOpenAIServer, type ChatCall, type TestOpenAIServer } from '../../support/openai-server';

function responder({ body, seq, choice }: ChatCall): string {
  const first = body.messages[0];
  const isAsk = first?.role === 'system' && String(first.content).includes('You are the user');
  return isAsk ? `Follow-up ${seq}.${choice} on that?` : `Answer ${seq}.`;
}

const settings: StoredSettings = {
  extend: {
    ask: { mode: 'parrot-ask', model: 'parrot-ask', temperature: 0.8, maxTokens: 64, n: 2 },
    answer: { model: 'gpt-test', temperature: 0.7, maxTokens: 128 },
  },
  capo: { model: 'gpt-test', temperature: 0.7, maxTokens: 128 },
};

const seed = (i: number): Dialogue => ({
  kind: 'dialogue',
  turns: [
    { role: 'user', content: `Tell me about topic ${i}.` },
    { role: 'assistant', content: `Topic ${i} is interesting.` },
  ],
  meta: {},
});

/** The OpenAI chat line of a dialogue. */
const line = (d: Dialogue): string =>
  JSON.stringify({ messages: d.turns.map((t) => ({ role: t.role, content: t.content })) });

/** Writes `lines` (a dialogue, or a blank line) as a JSONL file; record N is line N. */
function writeSource(file: string, ds: (Dialogue | undefined)[]): string {
  writeFileSync(file, ds.map((d) => (d ? line(d) : '')).join('\n') + '\n');
  return file;
}

/** The job entries of a source file's dialogues (as `parrot batch export` makes them). */
function entriesOf(file: string): { ref: ReturnType<typeof sourceRef>; d: Dialogue }[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((text, i) => {
      if (!text.trim()) return [];
      const p = parseRecord(text);
      if (!p.ok || p.sample.kind !== 'dialogue') throw new Error('bad source line');
      return [{ ref: sourceRef(i + 1, text), d: p.sample }];
    });
}

function extendJob(job: string, file: string, targetTurns: number): JobState {
  return createExtendJob({
    job,
    source: file,
    records: entriesOf(file).map((e) => extendEntry(e.ref, e.d)),
    targetTurns,
    settings,
  });
}

function capoJob(
  job: string,
  file: string,
  strategies: CapoStrategy[],
  o: { sourceName?: string; turns?: number[]; settings?: StoredSettings } = {},
): JobState {
  return createCapoJob({
    job,
    source: file,
    sourceName: o.sourceName,
    records: entriesOf(file).map((e) => capoEntry(e.ref, e.d, strategies, { turns: o.turns })),
    settings: o.settings ?? settings,
  });
}

/** The job's dialogues as grown so far (read again from the source). */
async function grown(s: JobState): Promise<Dialogue[]> {
  const out: Dialogue[] = [];
  for await (const it of sourceRecords(s.source, s.extend ?? [])) {
    if (!it.ok || it.parsed.sample.kind !== 'dialogue') throw new Error('unreadable');
    out.push(grownDialogue(it.parsed.sample, it.entry));
  }
  return out;
}

async function pairsOf(s: JobState): Promise<PreferencePair[]> {
  const out: PreferencePair[] = [];
  for await (const p of jobPairs(s)) out.push(p);
  return out;
}

describe('batch files', () => {
  it('custom ids round-trip', () => {
    const id = customId({ job: 'j1', record: 12, step: 3, task: 'misread@t6' });
    assert.equal(id, 'j1/r12/s3/misread@t6');
    assert.deepEqual(parseCustomId(id), { job: 'j1', record: 12, step: 3, task: 'misread@t6' });
    assert.throws(() => customId({ job: 'a/b', record: 1, step: 1, task: 'ask' }), /may not contain/);
  });

  it('parses outputs, per-id errors and unreadable lines', () => {
    const r = parseResults(
      [
        JSON.stringify({
          custom_id: 'a',
          response: { status_code: 200, body: { choices: [{ message: { content: 'x' } }] } },
          error: null,
        }),
        JSON.stringify({
          custom_id: 'b',
          response: { status_code: 500, body: { error: { message: 'boom' } } },
          error: null,
        }),
        JSON.stringify({ custom_id: 'c', response: null, error: { code: 'expired', message: 'not run' } }),
        '{oops',
      ].join('\n'),
    );
    assert.deepEqual(r.outcomes.get('a'), { ok: true, texts: ['x'] });
    assert.deepEqual(r.outcomes.get('b'), { ok: false, error: 'HTTP 500: boom' });
    assert.deepEqual(r.outcomes.get('c'), { ok: false, error: 'expired: not run' });
    assert.deepEqual(r.problems, ['results:4: not valid JSON']);
  });
});

describe('batch jobs against the loopback Batch API', () => {
  let server: TestOpenAIServer;
  let dir: string;
  let client: LlmClient;
  beforeEach(async () => {
    server = await startOpenAIServer({ responder, batchStepMs: 5 });
    dir = mkdtempSync(path.join(tmpdir(), 'parrot-batch-'));
    client = new LlmClient(resolveConfig({ baseUrl: server.baseUrl }));
  });
  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('export writes OpenAI Batch lines for the first round', async () => {
    const s = extendJob('j', writeSource(path.join(dir, 'j.jsonl'), [seed(1)]), 2);
    const base = path.join(dir, 'j');
    const r = await exportRound(s, base);
    assert.equal(r.requests, 1);
    const line = JSON.parse(readFileSync(jobPaths(base).requests(1), 'utf8').trim()) as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(line), ['custom_id', 'method', 'url', 'body']);
    assert.equal(line.custom_id, 'j/r1/s1/ask');
    assert.equal(line.url, '/v1/chat/completions');
    assert.equal((line.body as { n: number }).n, 2);
    const saved = await loadState(jobPaths(base).state);
    assert.equal(saved.pending?.customIds[0], 'j/r1/s1/ask');
  });

  it('runs a multi-round extend job to the end (ask, answer, ask, answer)', async () => {
    const s = extendJob('ext', writeSource(path.join(dir, 'ext.jsonl'), [seed(1), seed(2), seed(3)]), 3);
    const base = path.join(dir, 'ext');
    const statuses = new Set<string>();
    const done = await runJob(client, base, s, {
      intervalMs: 5,
      maxIntervalMs: 20,
      onStatus: (b) => statuses.add(b.status),
    });
    assert.equal(done.step, 4);
    for (const r of done.extend ?? []) assert.equal(r.status, 'done');
    for (const d of await grown(done))
      assert.deepEqual(
        d.turns.map((t) => t.role),
        ['user', 'assistant', 'user', 'assistant', 'user', 'assistant'],
      );
    assert.ok(
      !readFileSync(jobPaths(base).state, 'utf8').includes('Topic 1 is interesting'),
      'no source text in the state',
    );
    assert.equal(server.batches.size, 4);
    assert.ok(statuses.has('completed'));
    assert.deepEqual(done.errors, []);
  });

  it('reports per-custom_id errors and keeps going for the others', async () => {
    server.options.batchFault = (id) =>
      id === 'e/r2/s1/ask' ? { type: 'status', status: 500, message: 'model crashed' } : undefined;
    const s = extendJob('e', writeSource(path.join(dir, 'e.jsonl'), [seed(1), seed(2)]), 2);
    const done = await runJob(client, path.join(dir, 'e'), s, { intervalMs: 5, maxIntervalMs: 10 });
    assert.deepEqual(done.errors, [{ custom_id: 'e/r2/s1/ask', error: 'HTTP 500: model crashed' }]);
    assert.equal(done.extend?.[0]?.status, 'done');
    assert.equal(done.extend?.[1]?.status, 'failed');
    assert.equal((await grown(done))[1]?.turns.length, 2, 'failed record kept unchanged');
  });

  it('a missing result is an error, not a silent drop', async () => {
    const s = extendJob('m', writeSource(path.join(dir, 'm.jsonl'), [seed(1), seed(2)]), 2);
    const base = path.join(dir, 'm');
    await exportRound(s, base);
    const out = JSON.stringify({
      custom_id: 'm/r1/s1/ask',
      response: { status_code: 200, body: { choices: [{ message: { content: 'And why is that?' } }] } },
    });
    const r = await importRound(s, jobPaths(base).state, out);
    assert.deepEqual(r, { applied: 1, failed: 1, unknown: 0, problems: [] });
    assert.deepEqual(s.errors, [
      { custom_id: 'm/r2/s1/ask', error: 'no result for this request in the batch output' },
    ]);
  });

  it('resumes an interrupted job without re-submitting or re-requesting', async () => {
    const base = path.join(dir, 'res');
    const s = extendJob('res', writeSource(path.join(dir, 'res.jsonl'), [seed(1), seed(2)]), 2);
    // Round 1 done in one "process", round 2 submitted and then the process stops.
    await exportRound(s, base);
    const ac = new AbortController();
    await assert.rejects(
      runJob(client, base, s, {
        intervalMs: 5,
        maxIntervalMs: 10,
        signal: ac.signal,
        onImported: () => undefined,
        onStatus: (b) => {
          if (b.metadata?.step === '2') ac.abort();
        },
      }),
      /cancelled/,
    );
    const mid = await loadState(jobPaths(base).state);
    assert.equal(mid.step, 1, 'round 1 imported');
    assert.ok(mid.pending?.batchId, 'round 2 submitted and remembered');
    const batchesBefore = server.batches.size;
    const bodiesBefore = server.requests.filter(
      (r) => r.path === '/v1/batches' && r.method === 'POST',
    ).length;
    const done: JobState = await runJob(client, base, mid, { intervalMs: 5, maxIntervalMs: 10 });
    assert.equal(server.batches.size, batchesBefore, 'the pending batch was polled, not created again');
    assert.equal(
      server.requests.filter((r) => r.path === '/v1/batches' && r.method === 'POST').length,
      bodiesBefore,
    );
    assert.equal(done.step, 2);
    for (const d of await grown(done)) assert.equal(d.turns.length, 4);
    // Round 1's custom ids went out exactly once.
    const uploads = [...server.files.values()]
      .filter((f) => f.purpose === 'batch')
      .map((f) => f.content.toString());
    assert.equal(uploads.filter((u) => u.includes('res/r1/s1/ask')).length, 1);
  });

  it('the source is read again by position: a record changed after export fails with its line, the others go on', async () => {
    const file = writeSource(path.join(dir, 'chg.jsonl'), [seed(1), seed(2), seed(3)]);
    const s = extendJob('chg', file, 2);
    const base = path.join(dir, 'chg');
    await exportRound(s, base);
    // Line 2 is edited by someone else while round 1 runs.
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[1] = line({
      ...seed(2),
      turns: [{ role: 'user', content: 'Something else entirely.' }, seed(2).turns[1]],
    });
    writeFileSync(file, lines.join('\n'));
    const done = await runJob(client, base, s, { intervalMs: 5, maxIntervalMs: 10 });
    assert.deepEqual(
      done.extend?.map((r) => r.status),
      ['done', 'failed', 'done'],
    );
    assert.match(
      done.extend?.[1]?.error ?? '',
      /chg\.jsonl:2:1: the record changed since the job was exported/,
    );
    assert.deepEqual(
      done.extend?.map((r) => r.added.length),
      [2, 0, 2],
    );
  });

  it('submitRound is idempotent once the batch id is saved', async () => {
    const base = path.join(dir, 'id');
    const s = extendJob('id', writeSource(path.join(dir, 'id.jsonl'), [seed(1)]), 2);
    await exportRound(s, base);
    const a = await submitRound(client, s, jobPaths(base).state);
    const b = await submitRound(client, s, jobPaths(base).state);
    assert.equal(a, b);
    assert.equal(server.batches.size, 1);
  });

  it('CaPO job: one request per target and strategy, pairs with provenance', async () => {
    const d: Dialogue = {
      kind: 'dialogue',
      turns: [
        { role: 'user', content: 'Write a haiku about autumn.' },
        { role: 'assistant', content: 'Leaves drift slowly down...' },
        { role: 'user', content: 'Now translate it into French.' },
        { role: 'assistant', content: 'Les feuilles tombent...' },
      ],
      meta: {},
    };
    // Record 4 is line 4 (after two one-exchange dialogues, which have no CaPO target, and a blank line).
    const file = writeSource(path.join(dir, 'chats.jsonl'), [seed(1), seed(2), undefined, d]);
    const s = capoJob('c', file, ['neglect', 'hallucinate', 'misread'], { sourceName: 'chats.jsonl' });
    const done = await runJob(client, path.join(dir, 'c'), s, { intervalMs: 5, maxIntervalMs: 10 });
    const targets = done.capo?.find((r) => r.record === 4)?.targets ?? [];
    assert.equal(targets.length, 3);
    assert.ok(targets.every((t) => t.status === 'done' && t.rejected));
    const pairs = await pairsOf(done);
    assert.equal(pairs.length, 3);
    assert.deepEqual(pairs[0]?.meta.source, { file: 'chats.jsonl', record: 4, turn: 4 });
    assert.deepEqual(
      pairs[0]?.prompt.map((t) => t.content),
      ['Write a haiku about autumn.', 'Leaves drift slowly down...', 'Now translate it into French.'],
    );
    const sent = [...server.files.values()].find((f) => f.purpose === 'batch')?.content.toString() ?? '';
    const neglect = JSON.parse(sent.split('\n')[0] ?? '{}') as {
      custom_id: string;
      body: { messages: unknown[] };
    };
    assert.equal(neglect.custom_id, 'c/r4/s1/neglect@t4');
    assert.deepEqual(neglect.body.messages, [{ role: 'user', content: 'Now translate it into French.' }]);
  });

  it("import reports a duplicated custom_id, an unknown one and another job's, and applies none of them", async () => {
    const s = extendJob('d', writeSource(path.join(dir, 'd.jsonl'), [seed(1), seed(2)]), 2);
    const base = path.join(dir, 'd');
    await exportRound(s, base);
    const ok = (id: string, q: string): string =>
      JSON.stringify({
        custom_id: id,
        response: { status_code: 200, body: { choices: [{ message: { content: q } }] } },
      });
    const out = [
      ok('d/r1/s1/ask', 'And why is that so?'),
      ok('d/r2/s1/ask', 'What happens next there?'),
      ok('d/r2/s1/ask', 'A second, different result?'),
      ok('other/r1/s1/ask', 'From another job?'),
      ok('d/r9/s1/ask', 'For a record we never asked about?'),
      ok('something-else', 'Not ours at all?'),
    ].join('\n');
    const r = await importRound(s, jobPaths(base).state, out);
    assert.equal(r.applied, 1);
    assert.equal(r.failed, 1, 'the duplicated request counts as failed');
    assert.equal(r.unknown, 3);
    assert.equal(r.problems.length, 4);
    assert.match(
      r.problems[0] ?? '',
      /output:3: custom_id d\/r2\/s1\/ask appears again \(first at output:2\)/,
    );
    assert.ok(r.problems.some((m) => /other\/r1\/s1\/ask belongs to job other, not d/.test(m)));
    assert.ok(r.problems.some((m) => /d\/r9\/s1\/ask was not requested in round 1/.test(m)));
    assert.ok(r.problems.some((m) => /something-else is not one of ours/.test(m)));
    assert.equal(s.extend?.[1]?.status, 'failed');
    assert.equal((await grown(s))[1]?.turns.length, 2, 'neither duplicate applied');
    assert.match(s.errors[0]?.error ?? '', /two results in the batch output/);
  });

  it('a job state naming other template, request or source files is caught for untrusted callers', () => {
    const s = capoJob('t', writeSource(path.join(dir, 'in.jsonl'), [seed(1)]), ['neglect'], {
      sourceName: 'in.jsonl',
      turns: [1],
      settings: { ...settings, capo: { ...settings.capo!, misreadFile: '/home/someone/.ssh/id_rsa' } },
    });
    const base = path.join(dir, 't');
    s.pending = { step: 1, requestFile: jobPaths(base).requests(1), customIds: [] };
    const inside = (p: string): boolean => p.startsWith(dir);
    assert.deepEqual(jobStateProblems(s, base, [], inside), [
      'template file /home/someone/.ssh/id_rsa is not one the settings allow',
    ]);
    assert.deepEqual(jobStateProblems(s, base, ['/home/someone/.ssh/id_rsa'], inside), []);
    if (s.pending) s.pending.requestFile = '/etc/passwd';
    s.source = '/elsewhere/data.jsonl';
    const problems = jobStateProblems(s, base, ['/home/someone/.ssh/id_rsa'], inside);
    assert.deepEqual(problems, [
      "request file /etc/passwd is not the job's own round file",
      'source /elsewhere/data.jsonl is outside the workspace',
    ]);
  });

  it('CaPO job provenance names the source by its relative name, not its absolute path', async () => {
    const s = capoJob('p', writeSource(path.join(dir, 'chats.jsonl'), [seed(1)]), ['neglect'], {
      sourceName: 'data/chats.jsonl',
      turns: [1],
    });
    const done = await runJob(client, path.join(dir, 'p'), s, { intervalMs: 5, maxIntervalMs: 10 });
    assert.deepEqual((await pairsOf(done))[0]?.meta.source, {
      file: 'data/chats.jsonl',
      record: 1,
      turn: 2,
    });
  });
});
