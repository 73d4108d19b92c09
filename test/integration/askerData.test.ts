// Export Parrot-Ask Training Set… in the real VS Code extension host: the request the extension
// sends (Ask for Follow-up, parrot-ask mode, loopback server) for question k is the training
// sample's history up to question k.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TestOpenAIServer } from '../support/openai-server';
import { distinctQuestion, run, startLoopback, stopLoopback, writeLines } from './support/llm';

const SETTINGS = [
  'parrot.endpoint.baseUrl',
  'parrot.models.asker',
  'parrot.models.answerer',
  'parrot.generation.askerMode',
  'parrot.generation.candidates',
];

const MESSAGES = [
  { role: 'system', content: 'You answer questions about SQL.' },
  { role: 'user', content: 'How do I count rows per group?' },
  { role: 'assistant', content: 'SELECT g, COUNT(*) FROM t GROUP BY g;' },
  { role: 'user', content: 'And only groups with more than ten?' },
  { role: 'assistant', content: 'Add HAVING COUNT(*) > 10.' },
  { role: 'user', content: 'Can it be sorted by that count?' },
  { role: 'assistant', content: 'ORDER BY COUNT(*) DESC.' },
];

interface Msg {
  role: string;
  content: string;
  weight?: number;
}

describe('Export Parrot-Ask Training Set (loopback OpenAI-compatible server)', function () {
  this.timeout(90_000);
  let server: TestOpenAIServer;
  let dir: string;

  before(async () => {
    ({ server, dir } = await startLoopback(distinctQuestion, 'asker-data-tests', {
      'parrot.generation.askerMode': 'parrot-ask',
      'parrot.generation.candidates': 1,
    }));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await stopLoopback(server, SETTINGS);
  });

  it('writes one sample per dialogue whose prefix for question k is the request Ask for Follow-up sends', async () => {
    const pair = JSON.stringify({ prompt: 'p', chosen: 'c', rejected: 'r' });
    const src = writeLines(dir, 'dialogues.jsonl', [JSON.stringify({ messages: MESSAGES }), pair]);
    const output = path.join(dir, 'asker.openai.jsonl');
    const r = await run('parrot.exportAskerTrainingSet', { uri: src, format: 'openai', output });
    assert.equal(r.status, 'ok', r.message);
    assert.equal(r.samples, 1);
    assert.deepEqual(r.skipped, [{ line: 2, reason: 'a preference pair, not a dialogue' }]);
    const sample = (JSON.parse(fs.readFileSync(output, 'utf8').trimEnd()) as { messages: Msg[] }).messages;
    assert.deepEqual(
      sample.map((m) => [m.role, m.weight]),
      [
        ['system', undefined],
        ['assistant', 0],
        ['user', undefined],
        ['assistant', 1],
        ['user', undefined],
        ['assistant', 1],
      ],
    );
    for (const k of [2, 3]) {
      const at = 1 + 2 * (k - 1);
      const uri = writeLines(dir, `k${k}.jsonl`, [JSON.stringify({ messages: MESSAGES.slice(0, at) })]);
      const before = server.chatRequests.length;
      const a = await run('parrot.askFollowUp', { uri, record: 0, pick: 0 });
      assert.equal(a.status, 'ok', a.message);
      assert.equal(server.chatRequests.length, before + 1);
      assert.deepEqual(
        server.chatRequests[before]?.body.messages,
        sample.slice(0, at).map((m) => ({ role: m.role, content: m.content })),
        `question ${k}`,
      );
      assert.equal(sample[at]?.content, MESSAGES[at]?.content);
    }
  });

  it('llamafactory-v1 writes loss_weight and its dataset_info.yaml entry; --seed trains the first question', async () => {
    const src = writeLines(dir, 'lf.jsonl', [JSON.stringify({ messages: MESSAGES })]);
    const sub = path.join(dir, `lf-${Date.now()}`);
    fs.mkdirSync(sub);
    const output = path.join(sub, 'asker.jsonl');
    const r = await run('parrot.exportAskerTrainingSet', {
      uri: src,
      format: 'llamafactory-v1',
      output,
      seed: true,
      questions: '1-2',
    });
    assert.equal(r.status, 'ok', r.message);
    const row = JSON.parse(fs.readFileSync(output, 'utf8').trimEnd()) as {
      messages: { role: string; loss_weight: number }[];
    };
    assert.deepEqual(
      row.messages.map((m) => [m.role, m.loss_weight]),
      [
        ['system', 0],
        ['assistant', 1],
        ['user', 0],
        ['assistant', 1],
      ],
      'cut after the last trained question',
    );
    assert.equal(
      fs.readFileSync(path.join(sub, 'dataset_info.yaml'), 'utf8'),
      '"asker":\n  path: "asker.jsonl"\n  source: local\n',
    );
  });
});
