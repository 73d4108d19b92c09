import * as assert from 'node:assert/strict';
import { LlmClient, resolveConfig } from '../../../src/core/llm';
import type { Dialogue } from '../../../src/core/model';
import {
  ask,
  buildAskRequest,
  filterCandidates,
  looksLikeAnswer,
  hasQuestionIntent,
  loadTemplate,
  parseTemplate,
  previewRequest,
  render,
  type AskSettings,
} from '../../../src/core/parrot';
import { startOpenAIServer, type TestOpenAIServer } from '../../support/openai-server';

const dialogue: Dialogue = {
  kind: 'dialogue',
  system: 'You are a helpful coding assistant.',
  turns: [
    { role: 'user', content: 'How do I reverse a list in Python?' },
    { role: 'assistant', content: 'Use reversed(xs) or xs[::-1].' },
  ],
  meta: {},
};

const settings = (mode: AskSettings['mode'], n = 1): AskSettings => ({
  mode,
  model: 'parrot-ask',
  temperature: 0.8,
  maxTokens: 64,
  n,
});

describe('parrot-ask request builders', () => {
  it('parrot-ask mode swaps user and assistant and puts the asker system prompt first', () => {
    const req = buildAskRequest(dialogue, settings('parrot-ask', 3));
    assert.equal(req.n, 3);
    assert.equal(req.messages[0]?.role, 'system');
    assert.match(req.messages[0]?.content ?? '', /You are the user in this conversation/);
    assert.match(
      req.messages[0]?.content ?? '',
      /helpful coding assistant/,
      'original system prompt given as context',
    );
    assert.deepEqual(req.messages.slice(1), [
      { role: 'assistant', content: 'How do I reverse a list in Python?' },
      { role: 'user', content: 'Use reversed(xs) or xs[::-1].' },
    ]);
  });

  it('instruct mode renders the transcript into one user message', () => {
    const req = buildAskRequest(dialogue, settings('instruct'));
    assert.equal(req.messages.length, 1);
    assert.equal(req.messages[0]?.role, 'user');
    const c = req.messages[0]?.content ?? '';
    assert.ok(
      c.includes('User: How do I reverse a list in Python?\n\nAssistant: Use reversed(xs) or xs[::-1].'),
    );
    assert.match(c, /Reply with the question only/);
    assert.equal(req.n, undefined);
    assert.deepEqual(previewRequest({ task: 'ask', dialogue, settings: settings('instruct') }), req);
  });

  it('refuses dialogues that end with a user turn or have none', () => {
    assert.throws(
      () => buildAskRequest({ ...dialogue, turns: dialogue.turns.slice(0, 1) }, settings('instruct')),
      /answer it before/,
    );
    assert.throws(() => buildAskRequest({ ...dialogue, turns: [] }, settings('instruct')), /no turns yet/);
  });

  it('templates carry a version; user overrides are hashed; unknown placeholders fail', () => {
    assert.equal(loadTemplate('ask-instruct').version, 'ask-instruct@1');
    const t = parseTemplate('Next question for:\n{{transcript}}', 'mine.md');
    assert.match(t.version, /^file:mine\.md#[0-9a-f]{8}$/);
    assert.throws(() => render(parseTemplate('{{nope}}', 'x'), { transcript: '' }), /uses \{\{nope\}\}/);
    const req = buildAskRequest(dialogue, { ...settings('instruct'), template: t });
    assert.ok(req.messages[0]?.content.startsWith('Next question for:\nUser: How do I'));
  });
});

describe('candidate filter', () => {
  it('drops empty, short, duplicate, repeated and answer-like candidates with reasons', () => {
    const r = filterCandidates(
      [
        'What about sorting it in place?',
        '  ',
        'Why?',
        'what about sorting it in place',
        'How do I reverse a list in Python??',
        'Sure! Here is how you can do it: use list.reverse().',
        'User: "And for a tuple?"',
        `${'Reversing a list creates a new iterator and the original list stays the same. '.repeat(8)}`,
      ],
      dialogue,
    );
    assert.deepEqual(r.kept, ['What about sorting it in place?', 'And for a tuple?']);
    assert.deepEqual(
      r.rejected.map((x) => x.reason),
      ['empty', 'too-short', 'duplicate', 'repeats-history', 'answer-not-question', 'answer-not-question'],
    );
  });

  it('question intent heuristic', () => {
    assert.ok(hasQuestionIntent('Rewrite it as a limerick.'));
    assert.ok(hasQuestionIntent('And then?'));
    assert.ok(!hasQuestionIntent('The function returns a reversed copy.'));
    assert.ok(
      !looksLikeAnswer(
        'Explain the second step in more detail, with an example of the edge case where the list is empty and the code has to handle it gracefully without raising an error or returning the wrong type of object to the caller who expects a list back.',
      ),
    );
    assert.ok(looksLikeAnswer('Certainly, the answer is 42.'));
  });

  it('minimum length is configurable', () => {
    assert.deepEqual(filterCandidates(['Why?'], dialogue, { minWords: 1, minChars: 3 }).kept, ['Why?']);
  });
});

describe('ask() against the loopback server', () => {
  let server: TestOpenAIServer;
  afterEach(() => server.close());

  it('gets n candidates in one request and filters them', async () => {
    const replies = [
      'Can it reverse a string too?',
      'Can it reverse a string too?',
      'Does xs.reverse() return anything?',
    ];
    server = await startOpenAIServer({ responder: ({ choice }) => replies[choice] ?? '' });
    const client = new LlmClient(resolveConfig({ baseUrl: server.baseUrl }));
    const r = await ask(client, dialogue, settings('parrot-ask', 3));
    assert.deepEqual(r.kept, ['Can it reverse a string too?', 'Does xs.reverse() return anything?']);
    assert.deepEqual(r.rejected, [{ text: 'Can it reverse a string too?', reason: 'duplicate' }]);
    assert.equal(server.chatRequests.length, 1);
    const sent = server.chatRequests[0]?.body;
    assert.equal(sent?.n, 3);
    assert.deepEqual(
      sent?.messages.map((m) => m.role),
      ['system', 'assistant', 'user'],
      'roles reversed on the wire',
    );
  });

  it('falls back to N requests when the server ignores n', async () => {
    server = await startOpenAIServer({ ignoreN: true, responder: ({ seq }) => `Question number ${seq}?` });
    const client = new LlmClient(resolveConfig({ baseUrl: server.baseUrl }));
    const r = await ask(client, dialogue, settings('instruct', 3));
    assert.equal(server.chatRequests.length, 3);
    assert.deepEqual(r.kept, ['Question number 0?', 'Question number 1?', 'Question number 2?']);
  });
});
