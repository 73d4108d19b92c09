import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { LlmClient, resolveConfig, type LlmConfig } from '../../../src/core/llm';
import { contentText, type Dialogue } from '../../../src/core/model';
import {
  estimate,
  extend,
  extendMany,
  extendMtBench,
  isMtBenchQuestion,
  type ExtendResult,
  type ExtendSettings,
} from '../../../src/core/parrot';
import { startOpenAIServer, type ChatCall, type TestOpenAIServer } from '../../support/openai-server';
import { datasetsIn } from '../../support/fixtures';

const datasets = datasetsIn(path.resolve(__dirname, '..', '..', '..', '..'));

/** Asker requests (system prompt of the reversed mode) get questions; everything else gets answers. */
function responder({ body, seq, choice }: ChatCall): string {
  const first = body.messages[0];
  const isAsk = first?.role === 'system' && String(first.content).includes('You are the user');
  return isAsk ? `Follow-up question ${seq}.${choice} about that?` : `Answer ${seq} with some detail.`;
}

const settings: ExtendSettings = {
  ask: { mode: 'parrot-ask', model: 'parrot-ask', temperature: 0.8, maxTokens: 64, n: 2 },
  answer: { model: 'gpt-test', temperature: 0.7, maxTokens: 256 },
};

const seed = (): Dialogue => ({
  kind: 'dialogue',
  turns: [
    { role: 'user', content: 'What is a monad?' },
    { role: 'assistant', content: 'A monad is a design pattern.' },
  ],
  meta: { id: 'x' },
});

function client(server: TestOpenAIServer, over: Partial<LlmConfig> = {}): LlmClient {
  return new LlmClient(resolveConfig({ baseUrl: server.baseUrl, concurrency: 4, maxRetries: 0, ...over }), {
    backoffBaseMs: 5,
  });
}

describe('extend', () => {
  let server: TestOpenAIServer;
  beforeEach(async () => {
    server = await startOpenAIServer({ responder });
  });
  afterEach(() => server.close());

  it('grows a dialogue to N user questions, each answered (streamed)', async () => {
    const r = await extend(client(server), seed(), 4, settings);
    assert.equal(r.status, 'done');
    assert.equal(r.added, 6);
    const roles = r.dialogue.turns.map((t) => t.role);
    assert.deepEqual(roles, [
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
      'assistant',
    ]);
    assert.match(contentText(r.dialogue.turns[2]?.content ?? ''), /^Follow-up question \d+\.0 about that\?$/);
    assert.deepEqual(r.dialogue.meta, { id: 'x' });
    assert.equal(r.requests, 6);
    const streamed = server.chatRequests.filter((q) => q.body.stream === true);
    assert.equal(streamed.length, 3, 'answers are streamed');
  });

  it('answers a trailing user question first, and leaves long-enough dialogues alone', async () => {
    const d = seed();
    d.turns.push({ role: 'user', content: 'And a functor?' });
    const r = await extend(client(server), d, 2, settings);
    assert.equal(r.dialogue.turns.length, 4);
    assert.equal(r.dialogue.turns[3]?.role, 'assistant');
    const same = await extend(client(server), seed(), 1, settings);
    assert.equal(same.added, 0);
    assert.equal(same.status, 'done');
  });

  it('keeps completed exchanges, never the question whose answer was cut, and the partial answer', async () => {
    // request 1: ask (JSON), request 2: answer (stream) ok, 3: ask, 4: answer cut
    const c = client(server);
    server.inject({ type: 'latency', ms: 0 }, 3);
    server.inject({ type: 'cut', afterChunks: 2 });
    const r: ExtendResult = await extend(c, seed(), 4, settings);
    assert.equal(r.status, 'failed');
    assert.match(r.error ?? '', /stopped mid-way/);
    assert.equal(r.dialogue.turns.length, 4, 'the seed and one generated exchange, nothing unanswered');
    assert.equal(r.dialogue.turns.at(-1)?.role, 'assistant');
    assert.equal(r.added, 2);
    assert.equal(r.partialAnswer, 'Answer 3');
  });

  it('fails clearly when every candidate is rejected', async () => {
    server.options.responder = () => 'What is a monad?';
    const r = await extend(client(server), seed(), 3, settings);
    assert.equal(r.status, 'failed');
    assert.match(r.error ?? '', /every follow-up candidate was rejected \(repeats-history, duplicate\)/);
    assert.equal(r.dialogue.turns.length, 2);
  });

  it('extendMany respects the limit, reports per record and keeps finished work on cancel', async () => {
    server.options.latencyMs = 20;
    const c = client(server, { concurrency: 3 });
    const recs = Array.from({ length: 12 }, (_, i) => ({ index: i, dialogue: seed() }));
    const got = new Map<number, ExtendResult>();
    const ac = new AbortController();
    const progress: number[] = [];
    // Cancelled once four records are finished, while others are in flight.
    const p = await extendMany(c, recs, 3, settings, {
      signal: ac.signal,
      onResult: (i, r) => {
        got.set(i, r);
        if (got.size === 4) ac.abort();
      },
      onProgress: (x) => progress.push(x.done),
    });
    assert.ok(server.maxInFlight <= 3, `max in flight ${server.maxInFlight}`);
    assert.ok(p.done > 0 && p.done < 12, `done ${p.done}`);
    assert.ok(p.cancelled > 0);
    assert.equal(got.size, p.done + p.cancelled);
    for (const r of got.values()) {
      if (r.status === 'done') assert.equal(r.dialogue.turns.length, 6);
      else assert.ok(r.dialogue.turns.length >= 2);
    }
    assert.ok(progress.length > 0);
  });

  it('estimate counts requests and tokens', () => {
    const e = estimate(
      [seed(), { ...seed(), turns: [...seed().turns, { role: 'user', content: 'Why?' }] }],
      3,
      settings,
    );
    assert.equal(e.records, 2);
    assert.equal(e.askRequests, 2 + 1);
    assert.equal(e.answerRequests, 2 + 2);
    assert.equal(e.requests, 7);
    assert.ok(e.promptTokens > 20 && e.completionTokens > 0);
    assert.equal(estimate([seed()], 1, settings).unchanged, 1);
  });
});

describe('MT-Bench++', () => {
  let server: TestOpenAIServer;
  afterEach(() => server.close());

  it('extends real MT-Bench records to 8 question turns, storing only questions', async () => {
    server = await startOpenAIServer({ responder });
    const c = client(server);
    const lines = readFileSync(path.join(datasets, 'mt_bench_questions.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .slice(0, 2);
    for (const line of lines) {
      const q: unknown = JSON.parse(line);
      assert.ok(isMtBenchQuestion(q));
      const r = await extendMtBench(c, q, settings, 8);
      assert.equal(r.status, 'done');
      assert.equal(r.record.turns.length, 8);
      assert.deepEqual(r.record.turns.slice(0, 2), q.turns, 'original questions unchanged');
      assert.ok(r.record.turns.slice(2).every((t) => /^Follow-up question/.test(t)));
      assert.equal(r.record.question_id, q.question_id);
      assert.deepEqual(Object.keys(r.record), Object.keys(q), 'key order kept');
      assert.equal(r.context.turns.length, 16, 'answers were generated for context');
    }
  });
});
