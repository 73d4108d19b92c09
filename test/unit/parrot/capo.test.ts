import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseRecord } from '../../../src/core/formats';
import { LlmClient, resolveConfig } from '../../../src/core/llm';
import { contentText, type Dialogue, type PreferencePair } from '../../../src/core/model';
import {
  buildHallucinateRequest,
  buildJudgeRequest,
  buildMisreadRequest,
  buildNeglectRequest,
  capo,
  chooseMisreadTarget,
  contextDependence,
  dependentTurns,
  pairLines,
  parseJudgeReply,
  type CapoProvenance,
  type CapoSettings,
} from '../../../src/core/parrot';
import { startOpenAIServer, type TestOpenAIServer } from '../../support/openai-server';
import { datasetsIn } from '../../support/fixtures';

const datasets = datasetsIn(path.resolve(__dirname, '..', '..', '..', '..'));
const mtBench = readFileSync(path.join(datasets, 'mt_bench_questions.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { question_id: number; turns: [string, string] });
const byId = new Map(mtBench.map((q) => [q.question_id, q]));
const hist = [
  { role: 'user' as const, content: 'x' },
  { role: 'assistant' as const, content: 'y' },
];

describe('contextDependence on real MT-Bench turns', () => {
  it('flags second turns that refer back', () => {
    // Second turns that cannot be answered alone (references, ordinals, ellipsis).
    const dependentIds = [
      81, 82, 83, 84, 85, 86, 87, 89, 90, 101, 103, 104, 106, 107, 108, 114, 117, 118, 121, 124, 125, 128,
      131, 132, 133, 136, 140, 141, 142, 144, 145, 151, 152, 155, 156,
    ];
    const missed = dependentIds.filter(
      (id) => !contextDependence(byId.get(id)?.turns[1] ?? '', hist).dependent,
    );
    assert.deepEqual(missed, []);
    const r = contextDependence(
      'Rewrite your previous response. Start every sentence with the letter A.',
      hist,
    );
    assert.ok(r.dependent);
    assert.ok(
      r.cues.some((c) => c.startsWith('back-reference')),
      r.cues.join('; '),
    );
  });

  it('treats first turns as independent', () => {
    const flagged = mtBench
      .filter((q) => contextDependence(q.turns[0], hist).dependent)
      .map((q) => q.question_id);
    // A few first turns do contain demonstratives about their own content; allow at most 3 of 80.
    assert.ok(flagged.length <= 3, `flagged: ${flagged.join(', ')}`);
    assert.equal(contextDependence(byId.get(81)?.turns[0] ?? '', hist).dependent, false);
    assert.equal(contextDependence('Why?', []).dependent, false, 'no history, nothing to depend on');
  });

  it('small cases', () => {
    assert.ok(contextDependence('and in Python?', hist).dependent);
    assert.ok(contextDependence('What about Rust?', hist).dependent);
    assert.ok(contextDependence('Why?', hist).dependent);
    assert.ok(!contextDependence('Explain how photosynthesis works in desert plants.', hist).dependent);
  });

  it('judge request and reply', () => {
    const req = buildJudgeRequest('Can you parallelize it?', hist, 'gpt-test');
    assert.match(
      req.messages[0]?.content ?? '',
      /<next_message>\nCan you parallelize it\?\n<\/next_message>/,
    );
    assert.equal(parseJudgeReply('DEPENDENT.'), true);
    assert.equal(parseJudgeReply('independent'), false);
    assert.equal(parseJudgeReply('maybe'), undefined);
  });
});

const dialogue: Dialogue = {
  kind: 'dialogue',
  system: 'Be concise.',
  turns: [
    { role: 'user', content: 'Recommend a hiking trail in the Alps.' },
    { role: 'assistant', content: 'Try the Tour du Mont Blanc, a classic multi-day trek around the massif.' },
    { role: 'user', content: 'Write a Python function that sorts a list of numbers.' },
    { role: 'assistant', content: 'def sort_numbers(xs):\n    return sorted(xs)' },
    { role: 'user', content: 'Can you make it sort in descending order?' },
    { role: 'assistant', content: 'def sort_numbers(xs):\n    return sorted(xs, reverse=True)' },
  ],
  meta: {},
};
const s: CapoSettings = { model: 'gpt-test', temperature: 0.7, maxTokens: 128 };
const allText = (msgs: { content: string }[]): string => msgs.map((m) => m.content).join('\n');

describe('CaPO request builders', () => {
  it('neglect sends only the current user turn', () => {
    const r = buildNeglectRequest(dialogue, 5, s);
    assert.deepEqual(r.request.messages, [
      { role: 'user', content: 'Can you make it sort in descending order?' },
    ]);
  });

  it('hallucinate deletes history and tells the model to assume', () => {
    const r = buildHallucinateRequest(dialogue, 5, s);
    assert.equal(r.request.messages.length, 2);
    assert.equal(r.request.messages[0]?.role, 'system');
    assert.match(r.request.messages[0]?.content ?? '', /assume what the\s+references point to/);
    assert.equal(r.request.messages[1]?.content, 'Can you make it sort in descending order?');
    const text = allText(r.request.messages);
    for (const t of dialogue.turns.slice(0, 4))
      assert.ok(!text.includes(contentText(t.content)), 'no history');
    assert.equal(r.templateVersion, 'capo-hallucinate@1');
  });

  it('misread keeps the history and points at the least related earlier turn', () => {
    const target = chooseMisreadTarget(dialogue, 5);
    assert.deepEqual(target && { index: target.index, role: target.role }, { index: 0, role: 'user' });
    const r = buildMisreadRequest(dialogue, 5, s);
    assert.equal(r.request.messages[0]?.role, 'system');
    assert.ok(r.request.messages[0]?.content.startsWith('Be concise.\n\n'));
    assert.ok(
      r.request.messages[0]?.content.includes('<passage>\nRecommend a hiking trail in the Alps.\n</passage>'),
    );
    assert.deepEqual(
      r.request.messages.slice(1).map((m) => m.role),
      ['user', 'assistant', 'user', 'assistant', 'user'],
    );
    assert.equal(r.request.messages.at(-1)?.content, 'Can you make it sort in descending order?');
    assert.ok(
      !allText(r.request.messages).includes('reverse=True'),
      'the chosen answer is not in the request',
    );
  });

  it('dependentTurns finds the follow-up', () => {
    assert.deepEqual(
      dependentTurns(dialogue).map((t) => t.index),
      [5],
    );
  });
});

describe('capo() and pair writers', () => {
  let server: TestOpenAIServer;
  before(async () => {
    server = await startOpenAIServer({
      responder: ({ body }) => `rejected for ${body.messages.length} messages`,
    });
  });
  after(() => server.close());

  let pairs: PreferencePair[] = [];
  it('makes one pair per strategy with provenance', async () => {
    const client = new LlmClient(resolveConfig({ baseUrl: server.baseUrl }));
    const r = await capo(client, dialogue, s, {
      strategies: ['neglect', 'hallucinate', 'misread'],
      source: { file: 'chats.jsonl', record: 7 },
    });
    pairs = r.pairs;
    assert.deepEqual(r.skipped, []);
    assert.equal(pairs.length, 3);
    const metas = pairs.map((p) => p.meta as unknown as CapoProvenance);
    assert.deepEqual(
      metas.map((m) => m.strategy),
      ['neglect', 'hallucinate', 'misread'],
    );
    for (const m of metas) {
      assert.deepEqual(m.source, { file: 'chats.jsonl', record: 7, turn: 6 });
      assert.equal(m.models.rejected, 'gpt-test');
      assert.ok(!Number.isNaN(Date.parse(m.created)));
    }
    assert.deepEqual(metas[2]?.misread_target, { turn: 1, role: 'user' });
    assert.equal(pairs[0]?.rejected[0]?.content, 'rejected for 1 messages');
    assert.equal(pairs[2]?.rejected[0]?.content, 'rejected for 6 messages');
    assert.equal(pairs[0]?.chosen[0]?.content, dialogue.turns[5]?.content);
    assert.equal(pairs[0]?.prompt.length, 5);
  });

  it('writes TRL and LLaMA-Factory lines with provenance inside, OpenAI with a sidecar', () => {
    const p = pairs[2];
    const trl = pairLines(p, 'trl');
    assert.equal(trl.sidecar, undefined);
    const trlObj = JSON.parse(trl.line) as Record<string, unknown>;
    assert.ok(Array.isArray(trlObj.prompt) && Array.isArray(trlObj.chosen) && Array.isArray(trlObj.rejected));
    assert.equal(trlObj.strategy, 'misread');
    const back = parseRecord(trl.line);
    assert.ok(back.ok && back.sample.kind === 'preference');

    const sg = pairLines(p, 'sharegpt-preference');
    const sgObj = JSON.parse(sg.line) as Record<string, unknown>;
    assert.ok(Array.isArray(sgObj.conversations));
    assert.equal((sgObj.source as { record: number }).record, 7);

    const oa = pairLines(p, 'openai-preference');
    const oaObj = JSON.parse(oa.line) as Record<string, unknown>;
    assert.deepEqual(Object.keys(oaObj).sort(), ['input', 'non_preferred_output', 'preferred_output']);
    const side = JSON.parse(oa.sidecar ?? '{}') as CapoProvenance;
    assert.equal(side.strategy, 'misread');
    assert.deepEqual(side.source, { file: 'chats.jsonl', record: 7, turn: 6 });
  });
});
