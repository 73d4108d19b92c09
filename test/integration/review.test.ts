// Review decisions in the real VS Code extension host, through the webview's message path and the
// palette commands: the sidecar beside the dataset, the progress and row marks, the status filters
// of the host's query, next unreviewed, decisions that follow edits, deletions (a reorder of lines)
// and reloads, the export of accepted records, and `parrot.review.writeToRecord`.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseSidecar, type Decision } from '../../src/core/review';
import type { ParrotApi } from '../../src/extension/extension';
import type { HostMessage } from '../../src/protocol';
import type { ReviewHostMessage } from '../../src/reviewProtocol';
import { GENERATED_DIALOGUE } from '../support/fixtures';
import { waitForPost, webviewOpenedRecord } from './support/webview';

const EXTENSION_ID = 'parrot-studio.parrot-studio';
const REVIEWER = 'Test Reviewer';

type Progress = Extract<ReviewHostMessage, { type: 'reviewProgress' }>;
type RecordReview = Extract<ReviewHostMessage, { type: 'reviewRecord' }>;
type Marks = Extract<ReviewHostMessage, { type: 'reviewMarks' }>;

let api: ParrotApi;
let tmp: string;

function examplesDir(): string {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext);
  return path.join(ext.extensionPath, 'examples');
}

function copyOf(name: string, content?: string): vscode.Uri {
  const dir = fs.mkdtempSync(path.join(tmp, 'r-'));
  const target = path.join(dir, name);
  if (content === undefined) fs.copyFileSync(path.join(examplesDir(), name), target);
  else fs.writeFileSync(target, content);
  return vscode.Uri.file(target);
}

function progress(uri: vscode.Uri, test: (m: Progress) => boolean, what: string): Promise<Progress> {
  return waitForPost(
    api,
    uri,
    (m): m is Progress => m.type === 'reviewProgress' && !m.scanning && test(m),
    what,
  );
}

function recordReview(uri: vscode.Uri, line: number, test: (m: RecordReview) => boolean, what: string) {
  return waitForPost(
    api,
    uri,
    (m): m is RecordReview => m.type === 'reviewRecord' && m.line === line && test(m),
    `review of record ${line + 1}: ${what}`,
  );
}

async function send(uri: vscode.Uri, message: unknown): Promise<void> {
  assert.equal(await api.editor.sendFromWebview(uri, message), true, `refused: ${JSON.stringify(message)}`);
}

async function open(uri: vscode.Uri): Promise<Progress> {
  const counted = progress(uri, () => true, 'the first review count');
  const settled = webviewOpenedRecord(api, uri);
  await vscode.commands.executeCommand('vscode.openWith', uri, api.editor.viewType, { preview: false });
  await settled;
  return counted;
}

function sidecar(uri: vscode.Uri): Decision[] {
  const r = parseSidecar(fs.readFileSync(uri.fsPath + '.review.jsonl', 'utf8'));
  assert.deepEqual(r.problems, []);
  return r.decisions;
}

async function closeAll(): Promise<void> {
  for (let i = 0; i < 30 && vscode.window.tabGroups.all.some((g) => g.tabs.length > 0); i++)
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
}

describe('review: decisions in the dialogue editor', function () {
  this.timeout(120_000);

  before(async () => {
    const ext = vscode.extensions.getExtension<ParrotApi>(EXTENSION_ID);
    assert.ok(ext);
    api = await ext.activate();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-review-'));
    await vscode.workspace
      .getConfiguration()
      .update('parrot.review.reviewer', REVIEWER, vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    await closeAll();
    await vscode.workspace
      .getConfiguration()
      .update('parrot.review.reviewer', undefined, vscode.ConfigurationTarget.Global);
    await vscode.workspace
      .getConfiguration()
      .update('parrot.review.writeToRecord', undefined, vscode.ConfigurationTarget.Global);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  afterEach(closeAll);

  it('records decisions in the sidecar only; progress, marks, filters, next unreviewed and the palette commands follow', async () => {
    const uri = copyOf('fastchat_dummy_conversation.jsonl');
    const before = fs.readFileSync(uri.fsPath);
    const first = await open(uri);
    assert.equal(first.total, 500);
    assert.equal(first.byStatus.unreviewed, 500);

    const counted = progress(uri, (m) => m.byStatus.accepted === 1, 'one accepted');
    await send(uri, { type: 'reviewSet', line: 0, status: 'accepted' });
    await counted;
    const [d0] = sidecar(uri);
    assert.equal(d0?.key, 'id:identity_0');
    assert.equal(d0?.status, 'accepted');
    assert.equal(d0?.reviewer, REVIEWER);

    // A palette command acts on the record the webview shows.
    const shown = recordReview(uri, 2, (m) => m.record.status === 'unreviewed', 'unreviewed');
    await send(uri, { type: 'openRecord', line: 2 });
    await shown;
    const rejected = recordReview(uri, 2, (m) => m.record.status === 'rejected', 'rejected');
    const d2 = await vscode.commands.executeCommand<Decision | undefined>('parrot.rejectRecord');
    assert.equal(d2?.key, 'id:identity_2');
    assert.equal((await rejected).record.reviewer, REVIEWER);

    // A turn decision with a note; the record's decision is kept apart.
    const turned = recordReview(
      uri,
      2,
      (m) => m.turns.some((t) => t.turn === 1 && t.note === 'too vague'),
      'turn note',
    );
    await send(uri, { type: 'reviewSet', line: 2, turn: 1, status: 'needs-work', note: 'too vague' });
    const tr = await turned;
    assert.equal(tr.record.status, 'rejected');
    assert.equal(tr.turns[0]?.status, 'needs-work');

    // Row marks.
    const marks = waitForPost(
      api,
      uri,
      (m): m is Marks => m.type === 'reviewMarks' && m.marks.some((x) => x.line === 2),
      'marks',
    );
    await send(uri, { type: 'requestRows', lines: [0, 1, 2] });
    const got = new Map((await marks).marks.map((m) => [m.line, m]));
    assert.equal(got.get(0)?.status, 'accepted');
    assert.equal(got.get(1)?.status, 'unreviewed');
    assert.equal(got.get(2)?.status, 'rejected');
    assert.equal(got.get(2)?.turns, 1);

    // The status filter runs in the host's query.
    const hits: number[] = [];
    const sub = api.editor.onDidPostMessage((e) => {
      if (e.message.type === 'queryProgress' && e.message.id === 7)
        hits.push(...e.message.hits.map((h) => h.line));
    });
    const done = waitForPost(
      api,
      uri,
      (m): m is Extract<HostMessage, { type: 'queryDone' }> => m.type === 'queryDone' && m.id === 7,
      'query',
    );
    await send(uri, { type: 'query', id: 7, query: { review: 'rejected' } });
    assert.equal((await done).matched, 1);
    sub.dispose();
    assert.deepEqual(hits, [2]);

    // Next unreviewed, from record 1 (index 0): record 2 (index 1).
    const revealed = waitForPost(
      api,
      uri,
      (m): m is Extract<HostMessage, { type: 'reveal' }> => m.type === 'reveal',
      'reveal',
    );
    await send(uri, { type: 'reviewNext', after: 0 });
    assert.equal((await revealed).line, 1);

    // A note: the decision keeps its status; an invalid status is refused by the runtime check.
    assert.equal(
      await api.editor.sendFromWebview(uri, { type: 'reviewSet', line: 0, status: 'great' }),
      false,
    );

    assert.deepEqual(fs.readFileSync(uri.fsPath), before, 'the dataset is not touched by a review');
    assert.equal(api.editor.documentState(uri)?.dirty, false);
  });

  it('keeps decisions through an edit (changed since review), a deletion that shifts lines, and a reload', async () => {
    const uri = copyOf('fastchat_dummy_conversation.jsonl');
    await open(uri);
    let counted = progress(uri, (m) => m.byStatus.accepted === 1, 'accepted');
    await send(uri, { type: 'reviewSet', line: 5, status: 'accepted' });
    await counted;
    await send(uri, { type: 'openRecord', line: 5 });
    const changed = recordReview(uri, 5, (m) => m.record.changed, 'changed since review');
    await send(uri, { type: 'editTurn', line: 5, section: 'turns', turn: 0, text: 'An edited question?' });
    const c = await changed;
    assert.equal(c.record.status, 'accepted');

    // Deleting record 1 moves record 6 to index 4: its decision follows.
    counted = progress(uri, (m) => m.total === 499 && m.byStatus.accepted === 1, 'recount after delete');
    await send(uri, { type: 'deleteDialogue', line: 0 });
    await counted;
    const marks = waitForPost(
      api,
      uri,
      (m): m is Marks => m.type === 'reviewMarks' && m.marks.some((x) => x.line === 4),
      'marks',
    );
    await send(uri, { type: 'requestRows', lines: [4, 5] });
    const got = new Map((await marks).marks.map((m) => [m.line, m]));
    assert.equal(got.get(4)?.status, 'accepted');
    assert.equal(got.get(4)?.changed, true);
    assert.equal(got.get(5)?.status, 'unreviewed');

    // Another reviewer's decision appended to the sidecar on disk (a git pull) shows at once.
    const other = progress(uri, (m) => m.byStatus['needs-work'] === 1, 'a decision from disk');
    fs.appendFileSync(
      uri.fsPath + '.review.jsonl',
      JSON.stringify({
        hash: 'x',
        key: 'id:identity_9',
        reviewer: 'bo',
        status: 'needs-work',
        time: new Date().toISOString(),
      }) + '\n',
    );
    await other;
  });

  it('carries the decision of a record without an id over to its edited text', async () => {
    const lines = [
      '{"messages":[{"role":"user","content":"What is 2+2?"},{"role":"assistant","content":"4"}]}',
      '{"messages":[{"role":"user","content":"And 3+3?"},{"role":"assistant","content":"6"}]}',
    ];
    const uri = copyOf('noid.jsonl', lines.join('\n') + '\n');
    await open(uri);
    const counted = progress(uri, (m) => m.byStatus.rejected === 1, 'rejected');
    await send(uri, { type: 'reviewSet', line: 1, status: 'rejected' });
    await counted;
    await send(uri, { type: 'openRecord', line: 1 });
    const carried = recordReview(
      uri,
      1,
      (m) => m.record.status === 'rejected' && m.record.changed,
      'carried over',
    );
    await send(uri, { type: 'editTurn', line: 1, section: 'turns', turn: 1, text: 'Six.' });
    await carried;
    const ds = sidecar(uri);
    assert.equal(ds.length, 2);
    assert.equal(ds[1]?.from, ds[0]?.key);
    assert.notEqual(ds[1]?.key, ds[0]?.key);
  });

  it('counts decisions on CaPO pairs by strategy and by model, and filters generated records', async () => {
    const pair = (strategy: string, i: number): string =>
      JSON.stringify({
        prompt: [
          { role: 'user', content: 'Name a bakery.' },
          { role: 'assistant', content: 'Crumb Corner.' },
          { role: 'user', content: `Why that one? (${i})` },
        ],
        chosen: [{ role: 'assistant', content: `Because it is short (${i}).` }],
        rejected: [{ role: 'assistant', content: `Which one? (${i})` }],
        strategy,
        source: { file: 'd.jsonl', record: i, turn: 4 },
        models: { chosen: 'source', rejected: 'judge-7b' },
      });
    const lines = [
      pair('misread', 1),
      pair('misread', 2),
      pair('neglect', 3),
      '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}',
    ];
    const uri = copyOf('pairs.jsonl', lines.join('\n') + '\n');
    await open(uri);
    let counted = progress(uri, (m) => m.byStrategy.misread?.accepted === 1, 'misread accepted');
    await send(uri, { type: 'reviewSet', line: 0, status: 'accepted' });
    const p1 = await counted;
    assert.deepEqual(p1.byStrategy.misread, { unreviewed: 1, accepted: 1, rejected: 0, 'needs-work': 0 });
    assert.deepEqual(p1.byStrategy.neglect, { unreviewed: 1, accepted: 0, rejected: 0, 'needs-work': 0 });
    assert.equal(p1.byModel['judge-7b']?.accepted, 1);
    assert.equal(p1.byModel['judge-7b']?.unreviewed, 2);
    counted = progress(uri, (m) => m.byStrategy.neglect?.rejected === 1, 'neglect rejected');
    await send(uri, { type: 'reviewSet', line: 2, status: 'rejected' });
    await counted;

    // Generated only: the three pairs; with "unreviewed": the one left.
    for (const [id, query, expected] of [
      [21, { generated: true }, [0, 1, 2]],
      [22, { generated: true, review: 'unreviewed' }, [1]],
    ] as const) {
      const hits: number[] = [];
      const sub = api.editor.onDidPostMessage((e) => {
        if (e.message.type === 'queryProgress' && e.message.id === id)
          hits.push(...e.message.hits.map((h) => h.line));
      });
      const done = waitForPost(
        api,
        uri,
        (m): m is Extract<HostMessage, { type: 'queryDone' }> => m.type === 'queryDone' && m.id === id,
        `query ${id}`,
      );
      await send(uri, { type: 'query', id, query });
      await done;
      sub.dispose();
      assert.deepEqual(hits, expected);
    }
    const revealed = waitForPost(
      api,
      uri,
      (m): m is Extract<HostMessage, { type: 'reveal' }> => m.type === 'reveal',
      'next unreviewed generated record',
    );
    await send(uri, { type: 'reviewNext', after: 1, generated: true });
    assert.equal((await revealed).line, 1, 'wraps around, past the dialogue that is not generated');
  });

  it('exports exactly the accepted records, and writes meta.review only when asked', async () => {
    const uri = copyOf('openai_chat_fastchat.jsonl');
    const text = fs.readFileSync(uri.fsPath, 'utf8').split('\n');
    await open(uri);
    const steps = [
      [3, 'accepted', 1, 0],
      [1, 'accepted', 2, 0],
      [2, 'rejected', 2, 1],
    ] as const;
    for (const [line, status, accepted, rejected] of steps) {
      const done = progress(
        uri,
        (m) => m.byStatus.accepted === accepted && m.byStatus.rejected === rejected,
        `decision on ${line}`,
      );
      await send(uri, { type: 'reviewSet', line, status });
      await done;
    }
    const out = path.join(path.dirname(uri.fsPath), 'accepted.jsonl');
    const r = await vscode.commands.executeCommand<{ status: string; kept: number }>(
      'parrot.exportReviewed',
      {
        uri,
        selection: 'accepted',
        format: 'same',
        output: out,
      },
    );
    assert.equal(r.status, 'ok');
    assert.equal(r.kept, 2);
    assert.equal(fs.readFileSync(out, 'utf8'), `${text[1]}\n${text[3]}\n`);
    const toSharegpt = path.join(path.dirname(uri.fsPath), 'accepted.sharegpt.jsonl');
    await vscode.commands.executeCommand('parrot.exportReviewed', {
      uri,
      selection: 'not-rejected',
      format: 'sharegpt',
      output: toSharegpt,
    });
    const converted = fs.readFileSync(toSharegpt, 'utf8').trimEnd().split('\n');
    assert.equal(converted.length, 99);
    assert.ok((JSON.parse(converted[0] ?? '{}') as { conversations?: unknown }).conversations);

    await vscode.workspace
      .getConfiguration()
      .update('parrot.review.writeToRecord', true, vscode.ConfigurationTarget.Global);
    const edited = waitForPost(
      api,
      uri,
      (m): m is Extract<HostMessage, { type: 'record' }> =>
        m.type === 'record' && m.record.line === 4 && m.record.raw.includes('"review":'),
      'the record with its review field',
    );
    await send(uri, { type: 'reviewSet', line: 4, status: 'needs-work', note: 'check the tone' });
    const rec = await edited;
    const review = (
      JSON.parse(rec.record.raw) as { review: { status: string; note: string; reviewer: string } }
    ).review;
    assert.deepEqual(
      [review.status, review.note, review.reviewer],
      ['needs-work', 'check the tone', REVIEWER],
    );
    assert.equal(api.editor.documentState(uri)?.dirty, true);
  });

  it('with "generated only", a turn decision on a turn without provenance is refused; on a generated turn it is kept', async () => {
    const uri = copyOf('generated.jsonl', JSON.stringify(GENERATED_DIALOGUE) + '\n');
    await open(uri);
    const shown = recordReview(uri, 0, (m) => m.generated.length === 2, 'two generated turns');
    await send(uri, { type: 'openRecord', line: 0 });
    assert.deepEqual((await shown).generated, [2, 3]);

    const refused = waitForPost(
      api,
      uri,
      (m: HostMessage): m is Extract<HostMessage, { type: 'error' }> => m.type === 'error',
      'the refusal',
    );
    await send(uri, { type: 'reviewSet', line: 0, turn: 1, status: 'accepted', generated: true });
    assert.match((await refused).message, /Turn 2 of record 1 is not generated/);
    assert.equal(fs.existsSync(uri.fsPath + '.review.jsonl'), false);

    const kept = recordReview(uri, 0, (m) => m.turns.some((t) => t.turn === 3), 'turn 4 decided');
    await send(uri, { type: 'reviewSet', line: 0, turn: 3, status: 'rejected', generated: true });
    await kept;
    assert.deepEqual(
      sidecar(uri).map((d) => [d.turn, d.status]),
      [[3, 'rejected']],
    );
    // Without the option, any turn can be decided.
    const any = recordReview(uri, 0, (m) => m.turns.some((t) => t.turn === 1), 'turn 2 decided');
    await send(uri, { type: 'reviewSet', line: 0, turn: 1, status: 'accepted' });
    await any;
  });

  it('counts openai-preference pairs by the strategy in their provenance side file', async () => {
    const uri = copyOf('openai_preference_dpo_en_demo.jsonl');
    const lines = fs.readFileSync(uri.fsPath, 'utf8').trimEnd().split('\n');
    fs.writeFileSync(
      uri.fsPath + '.provenance.jsonl',
      lines
        .map((_, i) =>
          JSON.stringify({ strategy: i % 2 ? 'misread' : 'neglect', models: { rejected: 'm-1' } }),
        )
        .join('\n') + '\n',
    );
    await open(uri);
    const counted = progress(
      uri,
      (m) => m.byStrategy.misread?.accepted === 1 && m.byStrategy.neglect?.rejected === 1,
      'the pairs by strategy',
    );
    await send(uri, { type: 'reviewSet', line: 1, status: 'accepted' });
    await send(uri, { type: 'reviewSet', line: 2, status: 'rejected' });
    const p = await counted;
    assert.equal(p.byStrategy.misread?.unreviewed, Math.floor(lines.length / 2) - 1);
    assert.equal(p.byModel['m-1']?.accepted, 1);
  });
});
