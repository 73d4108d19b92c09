// Generation commands inside the real VS Code extension host, against the loopback
// OpenAI-compatible server (never the internet): follow-ups, streamed answers, file-wide extension
// with one undo step, cancellation, CaPO negatives with provenance, batch jobs, API keys per
// origin, actionable errors and the workspace-trust guard.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { contentText, type Dialogue } from '../../src/core/model';
import type { ParrotApi } from '../../src/extension/extension';
import { readSettings } from '../../src/extension/llm/settings';
import { trustedValue } from '../../src/extension/llm/trust';
import { TestOpenAIServer, type ChatCall } from '../support/openai-server';
import {
  ANSWERER,
  ASKER,
  EXTENSION_ID,
  dialogue,
  distinctQuestion,
  run,
  setSetting as set,
  sharegpt,
  startLoopback,
  stopLoopback,
  writeLines,
} from './support/llm';

const SETTINGS = [
  'parrot.endpoint.baseUrl',
  'parrot.models.asker',
  'parrot.models.answerer',
  'parrot.generation.askerMode',
  'parrot.generation.candidates',
  'parrot.generation.concurrency',
];

function responder(call: ChatCall): string {
  if (call.body.model === ASKER) return distinctQuestion(call);
  return `Answer ${call.seq}: it depends on the context you described, mostly on the data size.`;
}

let api: ParrotApi;
let server: TestOpenAIServer;
let dir: string;

function file(name: string, lines: string[]): vscode.Uri {
  return writeLines(dir, name, lines);
}

function userTurns(d: Dialogue): number {
  return d.turns.filter((t) => t.role === 'user').length;
}

describe('generation commands (loopback OpenAI-compatible server)', function () {
  this.timeout(60_000);

  before(async () => {
    ({ api, server, dir } = await startLoopback(responder, 'llm-tests', {
      'parrot.generation.askerMode': 'parrot-ask',
      'parrot.generation.candidates': 3,
      'parrot.generation.concurrency': 2,
    }));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await stopLoopback(server, SETTINGS);
  });

  beforeEach(() => {
    server.reset();
    server.options.latencyMs = 0;
  });

  it('reads the endpoint from the workspace when trusted, and ignores workspace values when not', () => {
    assert.equal(vscode.workspace.isTrusted, true);
    const inspected = vscode.workspace.getConfiguration().inspect<string>('parrot.endpoint.baseUrl');
    assert.equal(inspected?.workspaceValue, server.baseUrl);
    assert.equal(api.llm.baseUrl(), server.baseUrl);
    // The same inspect() result in an untrusted workspace: the workspace value is ignored.
    assert.equal(trustedValue(inspected, false), inspected?.globalValue ?? inspected?.defaultValue);
    assert.notEqual(trustedValue(inspected, false), server.baseUrl);
    const evil = {
      defaultValue: 'http://127.0.0.1:8000/v1',
      globalValue: 'https://api.openai.com/v1',
      workspaceValue: 'https://evil.example/v1',
      workspaceFolderValue: 'https://evil2.example/v1',
    };
    assert.equal(trustedValue(evil, false), 'https://api.openai.com/v1');
    assert.equal(trustedValue({ ...evil, globalValue: undefined }, false), 'http://127.0.0.1:8000/v1');
    assert.equal(trustedValue(evil, true), 'https://evil2.example/v1');
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON as {
      capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
    };
    for (const key of [
      'parrot.endpoint.baseUrl',
      'parrot.models.asker',
      'parrot.models.answerer',
      'parrot.generation.maxTokens',
      'parrot.generation.candidates',
      'parrot.generation.concurrency',
      'parrot.generation.templates',
      'parrot.capo.outputFile',
    ])
      assert.ok(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations.includes(key), key);
  });

  it('untrusted: workspace models, maxTokens, candidates and concurrency are ignored; candidates <= 16', async () => {
    const c = vscode.workspace.getConfiguration();
    const keys = [
      'parrot.generation.maxTokens',
      'parrot.generation.candidates',
      'parrot.generation.concurrency',
    ];
    try {
      await c.update('parrot.generation.maxTokens', 900000, vscode.ConfigurationTarget.Workspace);
      await c.update('parrot.generation.candidates', 500, vscode.ConfigurationTarget.Workspace);
      await c.update('parrot.generation.concurrency', 400, vscode.ConfigurationTarget.Workspace);
      const trusted = readSettings(true);
      assert.equal(trusted.models.answerer, ANSWERER);
      assert.equal(trusted.maxTokens, 900000);
      assert.equal(trusted.candidates, 16, 'clamped even when trusted');
      assert.equal(trusted.concurrency, 400);
      const untrusted = readSettings(false);
      assert.notEqual(untrusted.models.answerer, ANSWERER, 'the workspace model is ignored');
      assert.notEqual(untrusted.models.asker, ASKER);
      assert.equal(untrusted.maxTokens, 1024);
      assert.equal(untrusted.candidates, 3);
      assert.equal(untrusted.concurrency, 4);
    } finally {
      for (const k of keys) await c.update(k, undefined, vscode.ConfigurationTarget.Workspace);
      await c.update('parrot.generation.candidates', 3, vscode.ConfigurationTarget.Workspace);
      await c.update('parrot.generation.concurrency', 2, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('ask follow-up: inserts the picked candidate as a user turn; the asker saw the roles reversed', async () => {
    const first = ['How do I speed up my database queries?', 'Add indexes on the filtered columns.'];
    const uri = file('ask.jsonl', [sharegpt(['Hi', 'Hello!'], 'a'), sharegpt(first, 'b')]);
    const doc = await vscode.workspace.openTextDocument(uri);
    const r = await run('parrot.askFollowUp', { uri, record: 1, pick: 1 });
    assert.equal(r.status, 'ok', r.message);
    const candidates = r.candidates as string[];
    assert.equal(candidates.length, 3);
    const d = dialogue(doc.lineAt(1).text);
    assert.equal(d.turns.length, 3);
    assert.equal(d.turns[2]?.role, 'user');
    assert.equal(contentText(d.turns[2]?.content ?? ''), candidates[1]);
    // The generated question carries its provenance in its message; the other turns are as they were.
    const msgs = (JSON.parse(doc.lineAt(1).text) as { conversations: Record<string, unknown>[] })
      .conversations;
    const prov = msgs[2]?.provenance as { strategy: string; model: string; created: string } | undefined;
    assert.equal(prov?.strategy, 'follow-up');
    assert.equal(prov?.model, ASKER);
    assert.ok(!Number.isNaN(Date.parse(prov?.created ?? '')));
    assert.ok(msgs.slice(0, 2).every((m) => !('provenance' in m)));
    assert.equal(doc.lineAt(0).text, sharegpt(['Hi', 'Hello!'], 'a'), 'another record changed');
    const req = server.chatRequests.at(-1)?.body;
    assert.ok(req);
    assert.equal(req.model, ASKER);
    assert.equal(req.n, 3);
    assert.deepEqual(
      req.messages.map((m) => m.role),
      ['system', 'assistant', 'user'],
    );
    assert.equal(req.messages[1]?.content, first[0]);
    assert.equal(req.messages[2]?.content, first[1]);

    // The "edit before inserting" path: the edited text is inserted.
    const edited = await run('parrot.askFollowUp', { uri, record: 0, pick: 0, text: 'And what about it?' });
    assert.equal(edited.status, 'ok', edited.message);
    const d0 = dialogue(doc.lineAt(0).text);
    assert.equal(contentText(d0.turns.at(-1)?.content ?? ''), 'And what about it?');
    await vscode.workspace.saveAll(false);
  });

  it('answer turn: streams the answer and inserts it through the dialogue editor document', async () => {
    const uri = file('answer.jsonl', [
      sharegpt(['What is a B-tree?', 'A balanced search tree.', 'Why?'], 'c'),
    ]);
    await vscode.commands.executeCommand('vscode.openWith', uri, api.editor.viewType);
    const deadline = Date.now() + 20_000;
    while (!api.editor.document(uri) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const doc = api.editor.document(uri);
    assert.ok(doc, 'the dialogue editor did not open the file');
    const r = await run('parrot.answerTurn', { uri, record: 0 });
    assert.equal(r.status, 'ok', r.message);
    const req = server.chatRequests.at(-1)?.body;
    assert.equal(req?.stream, true);
    assert.equal(req?.model, ANSWERER);
    const d = dialogue(await doc.store.readLine(0));
    assert.equal(d.turns.length, 4);
    assert.equal(d.turns[3]?.role, 'assistant');
    assert.equal(contentText(d.turns[3]?.content ?? ''), r.inserted);
    assert.match(String(r.inserted), /^Answer \d+: it depends/);
    assert.equal(api.editor.documentState(uri)?.dirty, true);
    // Nothing was written to disk: the edit is in the editor's undo stack.
    assert.equal(
      fs.readFileSync(uri.fsPath, 'utf8').split('\n')[0],
      sharegpt(['What is a B-tree?', 'A balanced search tree.', 'Why?'], 'c'),
    );
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('extend file: 5 records to 4 turns at concurrency 2, applied as one undo step', async () => {
    const lines = Array.from({ length: 5 }, (_, i) =>
      sharegpt([`Question ${i} about sorting lists in Python?`, `Use sorted() for record ${i}.`], `e${i}`),
    );
    const uri = file('extend.jsonl', lines);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const original = doc.getText();
    server.options.latencyMs = 20;
    const r = await run('parrot.extendFile', { uri, turns: 4, confirm: false });
    assert.equal(r.status, 'ok', r.message);
    assert.equal(r.done, 5);
    assert.equal(r.changed, 5);
    assert.equal(r.undoSteps, 1);
    assert.ok(server.maxInFlight <= 2, `max in flight ${server.maxInFlight}`);
    assert.equal(server.maxInFlight, 2, 'the two slots were used');
    for (let i = 0; i < 5; i++) {
      const d = dialogue(doc.lineAt(i).text);
      assert.equal(userTurns(d), 4, `record ${i + 1}`);
      assert.equal(d.turns.length, 8);
      assert.equal(d.turns.at(-1)?.role, 'assistant');
      assert.equal(d.id, `e${i}`);
    }
    assert.equal(server.chatRequests.length, 5 * 6);
    await vscode.commands.executeCommand('undo');
    assert.equal(doc.getText(), original, 'one undo restores the original text');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('grow from seeds: a .txt of questions becomes new dialogues; a dataset restarts from its first questions', async () => {
    const seeds = vscode.Uri.file(path.join(dir, `seeds-${Date.now()}.txt`));
    fs.writeFileSync(seeds.fsPath, 'What is a B-tree?\n\nHow do I reverse a list in Python?\n');
    const out = seeds.fsPath.replace(/\.txt$/, '.jsonl');
    const r = await run('parrot.growFromSeeds', {
      uri: seeds,
      output: out,
      format: 'openai',
      turns: 2,
      confirm: false,
    });
    assert.equal(r.status, 'ok', r.message);
    assert.equal(r.done, 2);
    const grown = api.editor.document(vscode.Uri.file(out));
    assert.ok(grown, 'the new dataset is open in the dialogue editor');
    const texts = [await grown.store.readLine(0), await grown.store.readLine(1)];
    const msgs = texts.map(
      (t) => (JSON.parse(t) as { messages: { role: string; content: string }[] }).messages,
    );
    assert.deepEqual(
      msgs.map((m) => m[0]?.content),
      ['What is a B-tree?', 'How do I reverse a list in Python?'],
    );
    assert.ok(
      msgs.every((m) => m.length === 4 && m.map((x) => x.role).join() === 'user,assistant,user,assistant'),
    );
    assert.equal(server.chatRequests.length, 2 * 3, 'answer, ask, answer per seed');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');

    server.reset();
    const uri = file('reseed.jsonl', [
      sharegpt(['First question here?', 'First answer.', 'Old follow-up?', 'Old answer.'], 's0'),
    ]);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const r2 = await run('parrot.growFromSeeds', { uri, turns: 2, confirm: false });
    assert.equal(r2.status, 'ok', r2.message);
    const d = dialogue(doc.lineAt(0).text);
    assert.equal(d.id, 's0');
    assert.equal(d.turns[0]?.content, 'First question here?');
    assert.equal(d.turns.length, 4);
    assert.ok(!doc.lineAt(0).text.includes('Old'), 'what followed the first question was replaced');
    await vscode.commands.executeCommand('undo');
    assert.ok(doc.lineAt(0).text.includes('Old follow-up?'), 'one undo brings the record back');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('extend file: cancelling mid-run keeps the records already finished', async () => {
    const lines = Array.from({ length: 5 }, (_, i) =>
      sharegpt([`How do I parse dates number ${i}?`, `Use datetime.strptime, case ${i}.`], `c${i}`),
    );
    const uri = file('cancel.jsonl', lines);
    const doc = await vscode.workspace.openTextDocument(uri);
    await set('parrot.generation.concurrency', 1);
    server.options.latencyMs = 60;
    const cts = new vscode.CancellationTokenSource();
    const sub = api.llm.onDidFinishRecord((e) => {
      if (e.uri === uri.toString() && e.status === 'done') cts.cancel();
    });
    try {
      const r = await run('parrot.extendFile', { uri, turns: 3, confirm: false, token: cts.token });
      assert.equal(r.status, 'cancelled');
      assert.equal(r.done, 1);
      const full = lines.map((_, i) => userTurns(dialogue(doc.lineAt(i).text)));
      assert.equal(full[0], 3, 'the finished record is kept');
      assert.ok(
        full.slice(1).every((n) => n < 3),
        `later records: ${full.join(',')}`,
      );
      assert.equal(doc.lineAt(4).text, lines[4], 'a record never started is untouched');
    } finally {
      sub.dispose();
      cts.dispose();
      await set('parrot.generation.concurrency', 2);
      await vscode.workspace.saveAll(false);
    }
  });

  it('CaPO negative: each strategy appends a pair with provenance; the requests break the context', async () => {
    const turns = [
      'Suggest two names for a bakery.',
      '1. Rise & Shine 2. The Daily Crumb',
      'Write a slogan for a bike shop.',
      'Pedal into the future.',
      'Make the second one shorter.',
      'Daily Crumb.',
    ];
    const uri = file('capo.jsonl', [sharegpt(turns, 'k')]);
    await vscode.workspace.openTextDocument(uri);
    const out = path.join(dir, `pairs-${Date.now()}.jsonl`);
    for (const strategy of ['neglect', 'hallucinate', 'misread'] as const) {
      const r = await run('parrot.capoNegative', {
        uri,
        record: 0,
        turn: 5,
        strategy,
        decision: 'keep',
        output: out,
        show: strategy === 'neglect',
      });
      assert.equal(r.status, 'ok', r.message);
      const req = server.chatRequests.at(-1)?.body;
      assert.ok(req);
      const texts = req.messages.map((m) => String(m.content));
      if (strategy === 'neglect') {
        assert.deepEqual(req.messages, [{ role: 'user', content: turns[4] }], 'history removed');
        const diff = r.diff as { chosen: string; rejected: string };
        const shown = await vscode.workspace.openTextDocument(vscode.Uri.parse(diff.rejected));
        assert.equal(shown.getText(), r.rejected);
      } else if (strategy === 'hallucinate') {
        assert.equal(req.messages.length, 2);
        assert.equal(req.messages[0]?.role, 'system');
        assert.ok(!texts.some((t) => t.includes(turns[0] ?? '')), 'history removed');
      } else {
        // Full history, misdirected to an earlier turn that is not the reference's target.
        assert.ok(texts.includes(turns[2] ?? ''), 'history kept');
        assert.match(texts[0] ?? '', /Suggest two names for a bakery|Rise & Shine/);
      }
    }
    const pairs = fs
      .readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      pairs.map((p) => p.strategy),
      ['neglect', 'hallucinate', 'misread'],
    );
    for (const p of pairs) {
      assert.ok(Array.isArray(p.prompt) && Array.isArray(p.chosen) && Array.isArray(p.rejected));
      const source = p.source as { file: string; record: number; turn: number };
      assert.equal(source.record, 1);
      assert.equal(source.turn, 6);
      assert.ok(!path.isAbsolute(source.file), `source file ${source.file} is workspace-relative`);
      assert.equal((p.models as { rejected: string }).rejected, ANSWERER);
    }
    assert.ok(typeof pairs[2]?.misread_target === 'object', 'misread records its target');

    // OpenAI preference: bare lines, provenance in the sidecar.
    const outOpenAI = path.join(dir, `pairs-openai-${Date.now()}.jsonl`);
    const r = await run('parrot.capoNegative', {
      uri,
      record: 0,
      turn: 5,
      strategy: 'neglect',
      decision: 'keep',
      output: outOpenAI,
      format: 'openai-preference',
      show: false,
    });
    assert.equal(r.status, 'ok', r.message);
    const line = JSON.parse(fs.readFileSync(outOpenAI, 'utf8').trim()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(line).sort(), ['input', 'non_preferred_output', 'preferred_output']);
    const side = JSON.parse(fs.readFileSync(`${outOpenAI}.provenance.jsonl`, 'utf8').trim()) as {
      strategy: string;
    };
    assert.equal(side.strategy, 'neglect');

    // Discard writes nothing.
    const before = fs.readFileSync(out, 'utf8');
    const d = await run('parrot.capoNegative', {
      uri,
      record: 0,
      strategy: 'neglect',
      decision: 'discard',
      output: out,
      show: false,
    });
    assert.equal(d.status, 'discarded');
    assert.equal(fs.readFileSync(out, 'utf8'), before);

    // Discard after the diff was shown closes the diff's tab (a discarded pair leaves nothing open).
    const isDiff = (t: vscode.Tab) => t.input instanceof vscode.TabInputTextDiff;
    const shown = await run('parrot.capoNegative', {
      uri,
      record: 0,
      strategy: 'neglect',
      decision: 'discard',
      output: out,
      show: true,
    });
    assert.equal(shown.status, 'discarded');
    const rejected = (shown.diff as { rejected: string } | undefined)?.rejected;
    assert.ok(rejected, 'the diff was shown');
    const open = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter((t) => isDiff(t) && (t.input as vscode.TabInputTextDiff).modified.toString() === rejected);
    assert.deepEqual(open, [], 'no diff tab of the discarded pair is left open');
    assert.equal(fs.readFileSync(out, 'utf8'), before);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('build CaPO set: pairs for the context-dependent turns of a file only', async () => {
    const uri = file('capo-set.jsonl', [
      sharegpt(
        ['Write a haiku about rain.', 'Soft rain on the roof.', 'Now make it about snow instead.', 'Snow.'],
        's1',
      ),
      sharegpt(['What is the capital of France?', 'Paris.'], 's2'),
    ]);
    const out = path.join(dir, `set-${Date.now()}.jsonl`);
    const r = await run('parrot.buildCapoSet', {
      uri,
      output: out,
      strategies: ['neglect'],
      resume: false,
      confirm: false,
    });
    assert.equal(r.status, 'ok', r.message);
    assert.equal(r.finished, 2);
    const pairs = fs.readFileSync(out, 'utf8').trim().split('\n').filter(Boolean);
    assert.equal(pairs.length, r.pairs);
    assert.ok(pairs.length >= 1, 'the elliptical follow-up was found');
    for (const l of pairs) assert.equal((JSON.parse(l) as { source: { record: number } }).source.record, 1);
  });

  it('preview request: the exact body the ask would send', async () => {
    const uri = file('preview.jsonl', [
      sharegpt(['Hi there, explain tokens.', 'Tokens are pieces of text.'], 'p'),
    ]);
    const r = await run('parrot.previewRequest', { uri, record: 0, open: false });
    assert.equal(r.status, 'ok');
    const body = r.body as { model: string; messages: { role: string }[]; n?: number };
    assert.equal(body.model, ASKER);
    assert.equal(body.n, 3);
    await run('parrot.askFollowUp', { uri, record: 0, pick: 0 });
    const sent = server.chatRequests.at(-1)?.body;
    assert.deepEqual(sent?.messages, body.messages);
    await vscode.workspace.saveAll(false);
  });

  it('batch job: export, submit, import round after round, imported as one edit', async () => {
    const lines = [
      sharegpt(['How do I reverse a list?', 'Use reversed().'], 'b1'),
      sharegpt(['How do I copy a dict?', 'Use dict.copy().'], 'b2'),
    ];
    const uri = file('batch.jsonl', lines);
    const doc = await vscode.workspace.openTextDocument(uri);
    const job = uri.fsPath.replace(/\.jsonl$/, '') + '.job';
    const e = await run('parrot.batchExport', { uri, kind: 'extend', turns: 2, job });
    assert.equal(e.status, 'ok', e.message);
    assert.equal(e.requests, 2);
    let finished = false;
    for (let round = 0; round < 4 && !finished; round++) {
      const s = await run('parrot.batchSubmit', { job });
      assert.equal(s.status, 'ok', s.message);
      const i = await run('parrot.batchImport', { job, wait: true });
      assert.equal(i.status, 'ok', i.message);
      assert.equal(i.failed, 0);
      finished = i.finished === true;
    }
    assert.ok(finished, 'the job finished in two rounds');
    for (let k = 0; k < 2; k++) assert.equal(userTurns(dialogue(doc.lineAt(k).text)), 2);
    const customIds = server.chatRequests.length;
    assert.equal(customIds, 0, 'batch lines are not chat requests');
    await vscode.workspace.saveAll(false);
  });

  it('a rejected key shows the actionable message; keys are stored per origin and sent only there', async () => {
    const locked = await new TestOpenAIServer({
      responder,
      models: [ASKER, ANSWERER],
      requireKey: 'sk-right-key-123456',
    }).start();
    try {
      const rec = sharegpt(['Explain vectors briefly.', 'Arrays of numbers.'], 'k');
      const uri = file('keys.jsonl', [rec, rec, rec]);
      await set('parrot.endpoint.baseUrl', locked.baseUrl);
      let r = await run('parrot.setApiKey', { key: 'sk-wrong-key-000000' });
      assert.equal(r.status, 'ok');
      r = await run('parrot.askFollowUp', { uri, record: 0, pick: 0 });
      assert.equal(r.status, 'error');
      const host = new URL(locked.baseUrl).host;
      assert.equal(r.message, `the key was rejected by ${host} — run Parrot: Set API Key`);
      assert.equal(api.llm.lastError?.kind, 'auth');
      assert.equal(api.llm.lastError?.message, r.message);
      assert.equal(locked.requests.at(-1)?.headers.authorization, 'Bearer sk-wrong-key-000000');

      await run('parrot.setApiKey', { key: 'sk-right-key-123456' });
      r = await run('parrot.askFollowUp', { uri, record: 0, pick: 0 });
      assert.equal(r.status, 'ok', r.message);

      // Another origin never gets this key.
      await set('parrot.endpoint.baseUrl', server.baseUrl);
      server.reset();
      r = await run('parrot.askFollowUp', { uri, record: 1, pick: 0 });
      assert.equal(r.status, 'ok', r.message);
      assert.ok(server.requests.length > 0);
      for (const q of server.requests) assert.equal(q.headers.authorization, undefined);

      // Cleared: nothing is sent to the locked server any more.
      await set('parrot.endpoint.baseUrl', locked.baseUrl);
      r = await run('parrot.clearApiKey', {});
      assert.equal(r.status, 'ok');
      locked.reset();
      r = await run('parrot.askFollowUp', { uri, record: 2, pick: 0 });
      assert.equal(r.status, 'error');
      assert.equal(locked.requests.at(-1)?.headers.authorization, undefined);
      await vscode.workspace.saveAll(false);
    } finally {
      await set('parrot.endpoint.baseUrl', server.baseUrl);
      await locked.close();
    }
  });

  it('explains what to set instead of failing when a model is missing', async () => {
    await set('parrot.models.answerer', '');
    try {
      const uri = file('missing.jsonl', [sharegpt(['Why is the sky blue?'], 'm')]);
      const r = await run('parrot.answerTurn', { uri, record: 0 });
      assert.equal(r.status, 'disabled');
      assert.match(String(r.message), /parrot\.models\.answerer/);
      assert.equal(server.requests.length, 0);
    } finally {
      await set('parrot.models.answerer', ANSWERER);
    }
  });

  it('lists the endpoint models and writes the chosen one to the setting', async () => {
    const r = await run('parrot.selectModel', { role: 'answerer', model: ANSWERER, target: 'workspace' });
    assert.equal(r.status, 'ok', r.message);
    assert.deepEqual(r.models, [ASKER, ANSWERER]);
    assert.equal(vscode.workspace.getConfiguration().get('parrot.models.answerer'), ANSWERER);
    assert.equal(r.message, `parrot.models.answerer is now "${ANSWERER}" (workspace settings).`);
    const bad = await run('parrot.selectModel', { role: 'answerer', model: 'nope' });
    assert.equal(bad.status, 'error');
    assert.match(String(bad.message), /available: parrot-ask, gpt-test/);
  });
});
