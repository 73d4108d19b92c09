// The generation workflow end to end inside the real VS Code extension host, against the loopback
// OpenAI-compatible server: extending one dialogue (one undo step), MT-Bench++ on a copy of the
// real MT-Bench questions, a CaPO set that is cancelled and resumed without repeating requests,
// the text editor's CodeLens, and the extend-file estimate against the requests actually sent.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { contentText } from '../../src/core/model';
import type { ParrotApi } from '../../src/extension/extension';
import type { ChatBody, ChatCall, TestOpenAIServer } from '../support/openai-server';
import {
  ANSWERER,
  ASKER,
  dialogue,
  distinctQuestion,
  run,
  setSetting as set,
  sharegpt,
  startLoopback,
  stopLoopback,
  writeLines,
  type Result,
} from './support/llm';
const SETTINGS = [
  'parrot.endpoint.baseUrl',
  'parrot.models.asker',
  'parrot.models.answerer',
  'parrot.generation.askerMode',
  'parrot.generation.candidates',
  'parrot.generation.concurrency',
  'parrot.generation.codeLens',
];

/** Every text the server produced, so the tests can find it again in the files. */
const produced: { model: string; text: string }[] = [];

function responder(call: ChatCall): string {
  let text: string;
  if (call.body.model === ASKER) text = distinctQuestion(call);
  else text = `Answer ${call.seq}: it depends on the data size and on what you measured.`;
  produced.push({ model: call.body.model, text });
  return text;
}

let api: ParrotApi;
let server: TestOpenAIServer;
let dir: string;

function file(name: string, lines: string[]): vscode.Uri {
  return writeLines(dir, name, lines);
}

function texts(body: ChatBody): string[] {
  return body.messages.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)));
}

function readJsonl(p: string): Record<string, unknown>[] {
  return fs
    .readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('generation workflow (loopback OpenAI-compatible server)', function () {
  this.timeout(90_000);

  before(async () => {
    ({ api, server, dir } = await startLoopback(responder, 'llm-workflow-tests', {
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
    produced.length = 0;
  });

  it('extend dialogue: one record grows to 3 answered questions; other lines keep their bytes; one undo', async () => {
    const lines = [
      sharegpt(['How do I sort a list in Python?', 'Use sorted(xs) or xs.sort().'], 'x0'),
      // Spacing and escapes of the untouched lines must survive byte for byte.
      '{"id": "x1", "conversations": [{"from": "human", "value": "Caf\\u00e9?"}, {"from": "gpt", "value": "Yes."}]}',
      sharegpt(['What is a closure?', 'A function with its environment.'], 'x2'),
    ];
    const uri = file('extend-one.jsonl', lines);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const original = doc.getText();
    const r = await run('parrot.extendDialogue', { uri, record: 2, turns: 3 });
    assert.equal(r.status, 'ok', r.message);
    assert.equal(r.added, 4, 'two questions and two answers');

    const d = dialogue(doc.lineAt(2).text);
    assert.equal(d.id, 'x2');
    assert.deepEqual(
      d.turns.map((t) => t.role),
      ['user', 'assistant', 'user', 'assistant', 'user', 'assistant'],
    );
    assert.equal(contentText(d.turns[0]?.content ?? ''), 'What is a closure?');
    assert.equal(contentText(d.turns[1]?.content ?? ''), 'A function with its environment.');
    for (const t of d.turns.slice(2)) assert.ok(contentText(t.content).trim() !== '', 'an empty turn');

    // Two asks (roles reversed, n = 3) and two streamed answers, alternating.
    const reqs = server.chatRequests.map((q) => q.body);
    assert.deepEqual(
      reqs.map((b) => b.model),
      [ASKER, ANSWERER, ASKER, ANSWERER],
    );
    assert.equal(reqs[0]?.n, 3);
    assert.equal(reqs[1]?.stream, true);
    // The first ask saw the original exchange with the roles reversed.
    assert.deepEqual(reqs[0]?.messages.slice(-2), [
      { role: 'assistant', content: 'What is a closure?' },
      { role: 'user', content: 'A function with its environment.' },
    ]);
    // Each answer request ends with the question that was inserted before it, and the answer the
    // server produced is the one stored after it.
    const answers = produced.filter((p) => p.model === ANSWERER).map((p) => p.text);
    assert.equal(answers.length, 2);
    for (const [k, at] of [2, 4].entries()) {
      const q = contentText(d.turns[at]?.content ?? '');
      assert.ok(
        produced.some((p) => p.model === ASKER && p.text === q),
        `question ${q} came from the asker`,
      );
      const ans = reqs[2 * k + 1];
      assert.deepEqual(ans?.messages.at(-1), { role: 'user', content: q });
      assert.equal(contentText(d.turns[at + 1]?.content ?? ''), answers[k]);
    }
    assert.equal(doc.lineAt(0).text, lines[0]);
    assert.equal(doc.lineAt(1).text, lines[1]);
    assert.equal(doc.lineCount, original.split('\n').length);

    await vscode.commands.executeCommand('undo');
    assert.equal(doc.getText(), original, 'one undo restores the original text');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('MT-Bench++: a question record of the real MT-Bench file grows to 8 questions, nothing else changes', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const source = path.join(folder.uri.fsPath, 'mt_bench_questions.jsonl');
    assert.ok(fs.existsSync(source), 'the test workspace holds mt_bench_questions.jsonl');
    const copy = path.join(dir, `${Date.now()}-mt-bench-copy.jsonl`);
    fs.copyFileSync(source, copy);
    const uri = vscode.Uri.file(copy);
    const before = fs.readFileSync(copy, 'utf8');
    const originalLines = before.split('\n');
    const index = 3;
    const originalLine = originalLines[index] ?? '';
    const original = JSON.parse(originalLine) as { question_id: number; category: string; turns: string[] };
    assert.equal(original.turns.length, 2);

    const doc = await vscode.workspace.openTextDocument(uri);
    const r = await run('parrot.extendDialogue', { uri, record: index, turns: 8 });
    assert.equal(r.status, 'ok', r.message);
    const after = doc.getText().split('\n');
    assert.equal(after.length, originalLines.length);
    for (let i = 0; i < after.length; i++)
      if (i !== index) assert.equal(after[i], originalLines[i], `line ${i + 1} changed`);

    const line = after[index] ?? '';
    const value = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(Object.keys(value), Object.keys(JSON.parse(originalLine) as object), 'key order');
    assert.equal(value.question_id, original.question_id);
    assert.equal(value.category, original.category);
    const turns = value.turns as unknown[];
    assert.equal(turns.length, 8);
    assert.ok(turns.every((t) => typeof t === 'string' && t.trim() !== ''));
    assert.deepEqual(turns.slice(0, 2), original.turns, 'the first two questions are unchanged');
    // The original spacing style is kept (the file writes `"key": value`).
    assert.ok(line.startsWith(`{"question_id": ${original.question_id}, "category": `), line.slice(0, 60));
    // Only questions are stored: none of the answers made along the way are in the record.
    for (const p of produced.filter((x) => x.model === ANSWERER)) assert.ok(!line.includes(p.text));
    // The two existing questions were answered first, then 6 asks each followed by an answer.
    const models = server.chatRequests.map((q) => q.body.model);
    assert.deepEqual(models, [
      ANSWERER,
      ANSWERER,
      ...Array.from({ length: 6 }, () => [ASKER, ANSWERER]).flat(),
    ]);
    for (const t of turns.slice(2))
      assert.ok(
        produced.some((p) => p.model === ASKER && p.text === t),
        `question ${String(t)} came from the asker`,
      );
    assert.ok(await doc.save(), 'saved');
    assert.equal(fs.readFileSync(copy, 'utf8'), after.join('\n'));
  });

  it('CaPO set: pairs only for dependent turns, with provenance; cancelled then resumed without repeats', async () => {
    const records = [
      [
        'Write a JavaScript function that sums a list of numbers.',
        'function sum(xs) { return xs.reduce((a, b) => a + b, 0); }',
        'Rewrite it in Python.',
        'def total(xs): return sum(xs)',
        'Why is that?',
        'Because Python has a built-in sum.',
      ],
      [
        'Explain what a hash map is.',
        'A table that maps keys to values through a hash function.',
        'What is the capital of Japan?',
        'Tokyo.',
      ],
      [
        'Write a SQL query that counts the orders per customer.',
        'SELECT customer_id, COUNT(*) FROM orders GROUP BY customer_id;',
        'Rewrite it in Python, please.',
        'Counter(o.customer_id for o in orders)',
      ],
      [
        'Which sorting algorithm does Python use?',
        'Timsort, a hybrid of merge sort and insertion sort.',
        'Why is that so?',
        'It is fast on data that is already partly sorted.',
      ],
    ];
    const uri = file(
      'capo-resume.jsonl',
      records.map((t, i) => sharegpt(t, `r${i}`)),
    );
    const source = path.relative(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '', uri.fsPath);
    const out = path.join(dir, `capo-resume-${Date.now()}.jsonl`);
    const strategies = ['neglect', 'hallucinate'];
    // Dependent: record 1 turns 4 and 6, record 3 turn 4, record 4 turn 4 (1-based assistant turns).
    const expected = [
      [1, 4],
      [1, 6],
      [3, 4],
      [4, 4],
    ].flatMap(([record, turn]) => strategies.map((s) => `${record}:${turn}:${s}`));
    const key = (p: Record<string, unknown>): string => {
      const src = p.source as { record: number; turn: number };
      return `${src.record}:${src.turn}:${String(p.strategy)}`;
    };
    /** Which record a CaPO request was made for, by the user turn it carries. */
    const recordOf = (body: ChatBody): number => {
      const sent = texts(body).join('\n');
      const hits = records
        .map((t, i) => ({ i, hit: t.some((x) => sent.includes(x)) }))
        .filter((h) => h.hit)
        .map((h) => h.i + 1);
      return hits.length === 1 ? (hits[0] ?? -1) : -1;
    };

    await set('parrot.generation.concurrency', 1);
    server.options.latencyMs = 150;
    const cts = new vscode.CancellationTokenSource();
    let firstWritten = -1;
    const sub = api.llm.onDidFinishRecord((e) => {
      if (e.uri !== uri.toString() || e.status !== 'done' || cts.token.isCancellationRequested) return;
      firstWritten = e.index;
      cts.cancel();
    });
    let first: Result;
    try {
      first = await run('parrot.buildCapoSet', {
        uri,
        output: out,
        strategies,
        resume: false,
        confirm: false,
        token: cts.token,
      });
    } finally {
      sub.dispose();
      cts.dispose();
    }
    assert.equal(first.status, 'cancelled', first.message);
    assert.equal(firstWritten, 0);
    assert.equal(first.finished, 1);
    const kept = readJsonl(out);
    assert.deepEqual(kept.map(key), expected.slice(0, 4), 'the finished record keeps its pairs');
    assert.equal(first.pairs, 4);
    const firstRequests = server.chatRequests.map((q) => q.body);
    assert.ok(
      firstRequests.every((b) => recordOf(b) === 1),
      `the cancelled run asked for records ${firstRequests.map(recordOf).join(',')}`,
    );
    assert.equal(firstRequests.length, 4);
    const progress = JSON.parse(fs.readFileSync(`${out}.progress.json`, 'utf8')) as { records: number };
    assert.equal(progress.records, 1);

    server.reset();
    server.options.latencyMs = 0;
    const second = await run('parrot.buildCapoSet', {
      uri,
      output: out,
      strategies,
      resume: true,
      confirm: false,
    });
    assert.equal(second.status, 'ok', second.message);
    assert.equal(second.finished, 4);
    assert.equal(second.pairs, 4, 'pairs written by the resumed run');
    const resumed = server.chatRequests.map((q) => q.body);
    assert.equal(resumed.length, 4, 'one request per missing pair, none for the finished record');
    assert.deepEqual(
      resumed.map(recordOf).sort(),
      [3, 3, 4, 4],
      'requests only for the records not finished before',
    );
    assert.ok(
      !fs.existsSync(`${out}.progress.json`),
      'the progress file is removed when the set is complete',
    );

    const pairs = readJsonl(out);
    assert.deepEqual(pairs.map(key), expected, 'every dependent turn once, in input order');
    assert.equal(new Set(pairs.map(key)).size, pairs.length, 'no duplicate pairs');
    for (const p of pairs) {
      const src = p.source as { file: string; record: number; turn: number };
      assert.equal(src.file, source, 'source file relative to the workspace');
      assert.ok(!path.isAbsolute(src.file));
      assert.deepEqual(p.models, { chosen: 'source', rejected: ANSWERER });
      if (p.strategy === 'hallucinate')
        assert.ok(typeof p.template === 'string' && p.template !== '', 'template version');
      assert.ok(!Number.isNaN(Date.parse(String(p.created))), 'creation time');
      // The chosen side is the record's own answer to that turn.
      const turns = records[src.record - 1] ?? [];
      const chosen = p.chosen as { content: unknown }[];
      assert.equal(contentText(chosen[0]?.content as string), turns[src.turn - 1]);
      const prompt = p.prompt as { content: unknown }[];
      assert.equal(contentText(prompt.at(-1)?.content as string), turns[src.turn - 2]);
    }
    await set('parrot.generation.concurrency', 2);
  });

  it('CaPO set: an existing output is never emptied; an unreadable progress file is an error', async () => {
    const uri = file('capo-keep.jsonl', [
      sharegpt(
        [
          'Write a haiku about rain.',
          'Rain taps on the roof.',
          'Now make it sadder.',
          'Grey rain, empty room.',
        ],
        'k',
      ),
    ]);
    const out = path.join(dir, `capo-keep-${Date.now()}.jsonl`);
    fs.writeFileSync(out, '{"kept":"a pair from elsewhere"}\n');
    const before = server.received;
    const r = await run('parrot.buildCapoSet', { uri, output: out, strategies: ['neglect'] });
    assert.equal(r.status, 'error', r.message);
    assert.match(r.message ?? '', /exists/);
    assert.equal(
      fs.readFileSync(out, 'utf8'),
      '{"kept":"a pair from elsewhere"}\n',
      'the output is untouched',
    );
    fs.writeFileSync(`${out}.progress.json`, '{"version":2,"inp');
    const again = await run('parrot.buildCapoSet', {
      uri,
      output: out,
      strategies: ['neglect'],
      resume: true,
    });
    assert.equal(again.status, 'error', again.message);
    assert.match(again.message ?? '', /unreadable/);
    assert.equal(fs.readFileSync(out, 'utf8'), '{"kept":"a pair from elsewhere"}\n');
    assert.equal(server.received, before, 'no request was made');
  });

  it('CodeLens: on the records under the selection, follow-up / answer and negative lenses that name that line; off by setting', async () => {
    const lines = [
      sharegpt(['What is a mutex?', 'A lock that one thread holds at a time.'], 'l0'),
      sharegpt(
        [
          'Write a haiku about rain.',
          'Soft rain on the roof.',
          'Now make it about snow.',
          'Snow on quiet roofs.',
        ],
        'l1',
      ),
      sharegpt(['Explain B-trees.', 'Balanced search trees.', 'And why are they wide?'], 'l2'),
      '',
      sharegpt(['Is this a dialogue?', 'Yes.', 'Why?', 'It has turns.'], 'l4'),
    ];
    const uri = file('lens.jsonl', lines);
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    type Lens = { range: vscode.Range; command?: vscode.Command };
    const generation = ['parrot.askFollowUp', 'parrot.answerTurn', 'parrot.capoNegative'];
    // Every lens runs something: no label-only lens that looks clickable.
    const ours = (lenses: Lens[]): Lens[] =>
      lenses.filter((l) => generation.includes(l.command?.command ?? '') || l.command?.command === '');
    const lensLines = async (): Promise<number[]> => [
      ...new Set(
        ours(
          (await vscode.commands.executeCommand<Lens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [],
        ).map((l) => l.range.start.line),
      ),
    ];
    // The cursor on one record: only that record has lenses (a lens line above every record would
    // double the editor's height).
    editor.selection = new vscode.Selection(2, 3, 2, 3);
    assert.deepEqual(await lensLines(), [2]);
    // A selection over the file: every record in it.
    editor.selection = new vscode.Selection(0, 0, 4, 0);
    const lenses = ours(
      (await vscode.commands.executeCommand<Lens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [],
    );
    const byLine = new Map<number, Lens[]>();
    for (const l of lenses) byLine.set(l.range.start.line, [...(byLine.get(l.range.start.line) ?? []), l]);
    assert.deepEqual(
      [...byLine.keys()].sort((a, b) => a - b),
      [0, 1, 2, 4],
      'one group per record line',
    );
    const commands = (line: number): string[] =>
      (byLine.get(line) ?? []).map((l) => l.command?.command ?? '').filter((c) => c !== '');
    assert.deepEqual(commands(0), ['parrot.askFollowUp'], 'one exchange: no negatives');
    assert.deepEqual(commands(1), [
      'parrot.askFollowUp',
      'parrot.capoNegative',
      'parrot.capoNegative',
      'parrot.capoNegative',
    ]);
    assert.deepEqual(commands(2), ['parrot.answerTurn'], 'ends with a user turn');
    assert.deepEqual(commands(4).length, 4);
    for (const [line, group] of byLine) {
      for (const l of group) {
        assert.ok(l.command?.command, `a lens that runs nothing on line ${line + 1}: ${l.command?.title}`);
        const arg = l.command.arguments?.[0] as { uri: vscode.Uri; record: number; strategy?: string };
        assert.equal(arg.record, line, `${l.command.command} on line ${line + 1}`);
        assert.equal(arg.uri.toString(), uri.toString());
        if (l.command.command === 'parrot.capoNegative') {
          assert.match(l.command.title, /^Negative: (neglect|hallucinate|misread)$/);
          assert.equal((arg as { turn?: number }).turn, 3, 'the last answer');
          assert.ok(['neglect', 'hallucinate', 'misread'].includes(arg.strategy ?? ''));
        }
      }
    }
    assert.deepEqual(
      (byLine.get(1) ?? []).flatMap((l) => {
        const a = l.command?.arguments?.[0] as { strategy?: string } | undefined;
        return a?.strategy ? [a.strategy] : [];
      }),
      ['neglect', 'hallucinate', 'misread'],
    );
    // The lens runs its command on its record: the first line's ask reaches the asker with that
    // record's history.
    const ask = (byLine.get(0) ?? []).find((l) => l.command?.command === 'parrot.askFollowUp');
    const askArgs = ask?.command?.arguments?.[0] as object;
    await run('parrot.askFollowUp', { ...askArgs, pick: 0 });
    assert.deepEqual(texts(server.chatRequests.at(-1)?.body ?? { model: '', messages: [] }).slice(-2), [
      'What is a mutex?',
      'A lock that one thread holds at a time.',
    ]);
    await vscode.commands.executeCommand('undo');
    assert.equal(doc.lineAt(0).text, lines[0]);

    await set('parrot.generation.codeLens', false);
    try {
      const none = ours(
        (await vscode.commands.executeCommand<Lens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [],
      );
      assert.equal(none.length, 0);
    } finally {
      await set('parrot.generation.codeLens', undefined);
    }
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('extend file: the estimated request count is the number of requests a completed run sends', async () => {
    const lines = [
      sharegpt(['How do I read a CSV file in Python?', 'Use the csv module or pandas.read_csv.'], 'f0'),
      // Ends with an unanswered question: one answer first.
      sharegpt(['What is a generator?', 'A lazy iterator.', 'When should I use one?'], 'f1'),
      // Already long enough: no request.
      sharegpt(['A?', 'B.', 'C?', 'D.', 'E?', 'F.'], 'f2'),
      sharegpt(
        ['Explain TCP slow start.', 'The window grows until loss.', 'And after a loss?', 'It halves.'],
        'f3',
      ),
    ];
    const uri = file('estimate.jsonl', lines);
    const doc = await vscode.workspace.openTextDocument(uri);
    const r = await run('parrot.extendFile', { uri, turns: 3, confirm: false });
    assert.equal(r.status, 'ok', r.message);
    const est = r.estimate as {
      requests: number;
      askRequests: number;
      answerRequests: number;
      unchanged: number;
    };
    // f0: 2 asks + 2 answers, f1: 1 answer + 1 ask + 1 answer, f2: none, f3: 1 ask + 1 answer.
    assert.equal(est.unchanged, 1);
    assert.equal(est.askRequests, server.chatRequests.filter((q) => q.body.model === ASKER).length);
    assert.equal(est.answerRequests, server.chatRequests.filter((q) => q.body.model === ANSWERER).length);
    assert.equal(est.requests, server.chatRequests.length);
    assert.equal(est.requests, 9);
    assert.equal(doc.lineAt(2).text, lines[2], 'the record long enough is untouched');
    for (const i of [0, 1, 3]) {
      const d = dialogue(doc.lineAt(i).text);
      assert.equal(d.turns.filter((t) => t.role === 'user').length, 3);
      assert.equal(d.turns.at(-1)?.role, 'assistant');
    }
    await vscode.workspace.saveAll(false);
  });

  it('extend file: a pretty-printed JSON array open nowhere is extended record by record; the untouched element keeps its bytes', async () => {
    const records = [
      {
        id: 'a0',
        conversations: [
          { from: 'human', value: 'How do I read a CSV file?' },
          { from: 'gpt', value: 'Use pandas.' },
        ],
      },
      {
        id: 'a1',
        conversations: [
          { from: 'human', value: 'A?' },
          { from: 'gpt', value: 'B.' },
          { from: 'human', value: 'C?' },
          { from: 'gpt', value: 'D.' },
        ],
      },
    ];
    const text = `${JSON.stringify(records, null, 2)}\n`;
    const target = path.join(dir, 'extend-array.json');
    fs.writeFileSync(target, text);
    const uri = vscode.Uri.file(target);
    const r = await run('parrot.extendFile', { uri, turns: 2, confirm: false });
    assert.equal(r.status, 'ok', r.message);
    // a0: one ask + one answer; a1 already has two user turns.
    assert.equal(server.chatRequests.length, 2);
    const doc = api.editor.document(uri);
    assert.ok(doc, 'the run opened the dialogue editor document');
    assert.equal(dialogue(await doc.store.readLine(0)).turns.length, 4);
    assert.equal(await doc.store.readLine(1), JSON.stringify(records[1], null, 2).replace(/\n/g, '\n  '));
    assert.ok(await vscode.workspace.save(uri), 'saved');
    const after = fs.readFileSync(target, 'utf8');
    const parsed = JSON.parse(after) as { id: string; conversations: { from: string; value: string }[] }[];
    assert.deepEqual(
      parsed.map((x) => x.id),
      ['a0', 'a1'],
    );
    assert.deepEqual(
      parsed[0]?.conversations.map((t) => t.from),
      ['human', 'gpt', 'human', 'gpt'],
    );
    const untouched = JSON.stringify(records[1], null, 2).replace(/\n/g, '\n  ');
    assert.ok(after.includes(untouched), 'the second element is byte-identical');
  });

  it('extend file: the estimate also counts the answers MT-Bench++ makes for existing questions', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const all = fs.readFileSync(path.join(folder.uri.fsPath, 'mt_bench_questions.jsonl'), 'utf8').split('\n');
    const uri = file('estimate-mt.jsonl', all.slice(0, 2));
    const r = await run('parrot.extendFile', { uri, turns: 4, confirm: false });
    assert.equal(r.status, 'ok', r.message);
    const est = r.estimate as { requests: number; askRequests: number; answerRequests: number };
    // Each record: its 2 questions answered, then 2 asks each answered.
    assert.equal(server.chatRequests.length, 2 * (2 + 2 * 2));
    assert.equal(est.askRequests, server.chatRequests.filter((q) => q.body.model === ASKER).length);
    assert.equal(est.answerRequests, server.chatRequests.filter((q) => q.body.model === ANSWERER).length);
    assert.equal(est.requests, server.chatRequests.length);
    const doc = await vscode.workspace.openTextDocument(uri);
    for (let i = 0; i < 2; i++)
      assert.equal((JSON.parse(doc.lineAt(i).text) as { turns: string[] }).turns.length, 4);
    await vscode.workspace.saveAll(false);

    // Records that already have enough questions cost nothing, as estimated.
    server.reset();
    const enough = file('estimate-mt-enough.jsonl', all.slice(0, 2));
    const r2 = await run('parrot.extendFile', { uri: enough, turns: 2, confirm: false });
    assert.equal(r2.status, 'ok', r2.message);
    const est2 = r2.estimate as { requests: number; unchanged: number };
    assert.equal(est2.unchanged, 2);
    assert.equal(est2.requests, 0);
    assert.equal(server.chatRequests.length, 0, 'no request for records already long enough');
    assert.equal(r2.changed, 0);
  });
});
