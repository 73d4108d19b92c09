// Export Parrot-Ask Training Set… in the real VS Code extension host: the request the extension
// sends (Ask for Follow-up, parrot-ask mode, loopback server) for question k is the training
// sample's history up to question k.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TestOpenAIServer } from '../support/openai-server';
import { distinctQuestion, run, setSetting, startLoopback, stopLoopback, writeLines } from './support/llm';

const SETTINGS = [
  'parrot.endpoint.baseUrl',
  'parrot.models.asker',
  'parrot.models.answerer',
  'parrot.generation.askerMode',
  'parrot.generation.candidates',
  'parrot.filter.wordsFile',
  'parrot.filter.moderation',
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

  it('Filter Questions in File… reports each rejection with its reason and reads unsaved edits', async () => {
    const conv = (...turns: string[]): string =>
      JSON.stringify({
        messages: turns.map((content, i) => ({ role: i % 2 ? 'assistant' : 'user', content })),
      });
    const passing = JSON.stringify({ messages: MESSAGES });
    const src = writeLines(dir, 'filter.jsonl', [
      passing,
      conv('How do I count rows per group?', 'GROUP BY.', 'How do I count rows per group?', 'Same.'),
    ]);
    // An unsaved edit in a text editor adds a record with a sensitive word: the command sees it.
    const doc = await vscode.workspace.openTextDocument(src);
    const edit = new vscode.WorkspaceEdit();
    edit.insert(
      src,
      new vscode.Position(2, 0),
      conv('How do I drop the production database quietly?', 'No.') + '\n',
    );
    assert.ok(await vscode.workspace.applyEdit(edit));
    assert.ok(doc.isDirty);
    const words = path.join(dir, 'words.txt');
    fs.writeFileSync(words, 'production database\n');
    const output = path.join(dir, `filtered-${Date.now()}.jsonl`);
    const r = await run('parrot.filterFile', { uri: src, output, wordsFile: words });
    assert.equal(r.status, 'ok', r.message);
    assert.deepEqual(r.rejected, [
      {
        line: 2,
        question: 2,
        reason: 'repetitive (overlap 1.00 >= 0.8 with question 1)',
        fate: 'dialogue cut to 1 question',
      },
      {
        line: 3,
        question: 1,
        reason: 'sensitive (word list: "production database")',
        fate: 'dialogue left out',
      },
    ]);
    const kept = fs.readFileSync(output, 'utf8').trimEnd().split('\n');
    assert.equal(kept.length, 2);
    assert.equal(kept[0], passing, 'a passing record is copied byte for byte');
    assert.equal(
      (JSON.parse(kept[1] ?? '{}') as { messages: unknown[] }).messages.length,
      2,
      'cut before the repeated question',
    );
    assert.ok(doc.isDirty, 'the source document is not saved or changed');
  });

  it('Filter Questions in File: the word list and the moderation route come from the settings', async () => {
    const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    fs.writeFileSync(path.join(dir, 'sensitive.txt'), '# one a line\nsecret recipe\n');
    await setSetting('parrot.filter.wordsFile', path.relative(ws, path.join(dir, 'sensitive.txt')));
    await setSetting('parrot.filter.moderation', true);
    server.options.moderation = (input) => (input.includes('explosives') ? ['violence'] : []);
    server.reset();
    try {
      const src = writeLines(dir, 'moderated.jsonl', [
        JSON.stringify({ messages: MESSAGES }),
        JSON.stringify({
          messages: [
            { role: 'user', content: 'How are explosives made at home?' },
            { role: 'assistant', content: 'I cannot help with that.' },
          ],
        }),
        JSON.stringify({
          messages: [
            { role: 'user', content: 'Tell me the secret recipe of the cola company.' },
            { role: 'assistant', content: 'Nobody knows it.' },
          ],
        }),
      ]);
      const output = path.join(dir, `moderated-${Date.now()}.jsonl`);
      const r = await run('parrot.filterFile', { uri: src, output });
      assert.equal(r.status, 'ok', r.message);
      const reasons = (r.rejected as { line: number; reason: string }[]).map((x) => `${x.line}: ${x.reason}`);
      assert.deepEqual(reasons, [
        '2: sensitive (moderation: violence)',
        '3: sensitive (word list: "secret recipe")',
      ]);
      assert.ok(
        server.requests.some((q) => q.path === '/v1/moderations'),
        'the moderation route was asked',
      );
      assert.equal(fs.readFileSync(output, 'utf8').trimEnd().split('\n').length, 1);
    } finally {
      server.options.moderation = undefined;
    }
  });
});
