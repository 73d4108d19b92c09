// The Dataset Overview in the real VS Code extension host: the overview of an examples/ dataset is
// computed and drawn by its webview, a bar filters the dialogue editor's list to its records, and
// a save brings a new overview.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OverviewFigures } from '../../src/core/overview';
import type { ParrotApi } from '../../src/extension/extension';
import type { HostMessage } from '../../src/protocol';
import type { OverviewHostMessage, OverviewWebviewMessage } from '../../src/overviewProtocol';
import { waitForPost } from './support/webview';

const TIMEOUT = 60_000;

function waitFor<T>(
  event: vscode.Event<{ uri: vscode.Uri; message: T }>,
  uri: vscode.Uri,
  pred: (m: T) => boolean,
  what: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out waiting for ${what}`));
    }, TIMEOUT);
    const sub = event((e) => {
      if (e.uri.toString() !== uri.toString() || !pred(e.message)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(e.message);
    });
  });
}

describe('dataset overview', function () {
  this.timeout(180_000);
  let api: ParrotApi;
  let tmp: string;
  let examples: string;

  before(async () => {
    const ext = vscode.extensions.getExtension<ParrotApi>('parrot-studio.parrot-studio');
    assert.ok(ext);
    api = await ext.activate();
    examples = path.join(ext.extensionPath, 'examples');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-overview-'));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('renders the overview of an examples/ dataset, a bar filters the list, a save refreshes it', async () => {
    const file = path.join(tmp, 'fastchat_dummy_conversation.jsonl');
    fs.copyFileSync(path.join(examples, 'fastchat_dummy_conversation.jsonl'), file);
    const uri = vscode.Uri.file(file);
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    const turnsOf = (l: string): number =>
      (JSON.parse(l) as { conversations: unknown[] }).conversations.length;

    const figures = waitFor(api.overview.onDidPostMessage, uri, (m) => m.type === 'figures', 'the figures');
    const rendered = waitFor(
      api.overview.onDidReceiveMessage,
      uri,
      (m: OverviewWebviewMessage) => m.type === 'rendered',
      'the overview webview to draw its charts',
    );
    await vscode.commands.executeCommand('parrot.showOverview', uri);
    const f = ((await figures) as Extract<OverviewHostMessage, { type: 'figures' }>).figures;
    const drawn = (await rendered) as Extract<OverviewWebviewMessage, { type: 'rendered' }>;
    assert.equal(f.records, lines.length);
    assert.deepEqual(f.formats, [{ format: 'sharegpt', count: lines.length }]);
    assert.ok(f.turns && f.tokens);
    // Every bin of every histogram is one clickable bar, plus the format bar (at least).
    const bins =
      f.turns.bins.length + f.tokens.bins.length + f.roles.reduce((a, r) => a + r.histogram.bins.length, 0);
    assert.ok(drawn.bars >= bins + 1, `${drawn.bars} bars drawn for ${bins} bins`);

    // A click on the bar of the most frequent turn count (sent through the webview's message path).
    const bin = f.turns.bins.reduce((best, b, i, all) => (b.count > all[best].count ? i : best), 0);
    const want = lines.map((l, i) => [l, i] as const).filter(([l]) => turnsOf(l) === f.turns?.bins[bin].lo);
    assert.ok(want.length > 0 && want.length < lines.length);
    const shown = waitForPost(
      api,
      uri,
      (m: HostMessage): m is Extract<HostMessage, { type: 'showLines' }> => m.type === 'showLines',
      'the list filter',
      TIMEOUT,
    );
    assert.ok(await api.overview.sendFromWebview(uri, { type: 'select', sel: { chart: 'turns', bin } }));
    const filter = await shown;
    assert.deepEqual(
      filter.lines,
      want.map(([, i]) => i),
    );
    assert.match(filter.label, new RegExp(`${want.length}`));
    assert.equal(api.editor.documentState(uri)?.webviews, 1);
    // An invalid message from the webview is refused.
    assert.equal(
      await api.overview.sendFromWebview(uri, { type: 'select', sel: { chart: 'turns', bin: -1 } }),
      false,
    );

    // Delete the first dialogue and save: the overview follows the file on disk.
    const again = waitFor(
      api.overview.onDidPostMessage,
      uri,
      (m) => m.type === 'figures' && (m as { figures: OverviewFigures }).figures.records === lines.length - 1,
      'the overview after the save',
    );
    assert.ok(await api.editor.sendFromWebview(uri, { type: 'deleteDialogue', line: 0 }));
    await api.editor.provider.saveCustomDocument(
      api.editor.document(uri) as never,
      new vscode.CancellationTokenSource().token,
    );
    const after = ((await again) as Extract<OverviewHostMessage, { type: 'figures' }>).figures;
    assert.equal(after.turns?.count, lines.length - 1);
  });

  it('gives a JSON array and a Parquet file the figures of the same records in JSONL; a bar selects elements', async () => {
    const datasets = path.join(examples, '..', 'test', 'fixtures', 'datasets');
    const figuresOf = async (file: string): Promise<OverviewFigures> => {
      const uri = vscode.Uri.file(file);
      const got = waitFor(
        api.overview.onDidPostMessage,
        uri,
        (m) => m.type === 'figures',
        `the figures of ${file}`,
      );
      await vscode.commands.executeCommand('parrot.showOverview', uri);
      return ((await got) as Extract<OverviewHostMessage, { type: 'figures' }>).figures;
    };
    const name = 'llamafactory_dpo_en_demo';
    const copies: Record<string, string> = {};
    for (const [ext, from] of [
      ['jsonl', path.join(datasets, `${name}.jsonl`)],
      ['json', path.join(datasets, 'containers', `${name}.json`)],
      ['parquet', path.join(datasets, 'containers', `${name}.parquet`)],
    ] as const) {
      copies[ext] = path.join(tmp, `${name}.${ext}`);
      fs.copyFileSync(from, copies[ext]);
    }
    const jsonl = await figuresOf(copies.jsonl);
    assert.equal(jsonl.preferencePairs, 300);
    assert.deepEqual(await figuresOf(copies.json), jsonl);
    assert.deepEqual(await figuresOf(copies.parquet), jsonl);

    // A bar of the JSON array's overview shows its elements in the dialogue editor's list.
    const uri = vscode.Uri.file(copies.json);
    const elements = JSON.parse(fs.readFileSync(copies.json, 'utf8')) as { conversations: unknown[] }[];
    const f = jsonl.turns;
    assert.ok(f);
    const bin = f.bins.reduce((best, b, i, all) => (b.count > all[best].count ? i : best), 0);
    // A pair's turns: its prompt and the chosen answer.
    const want = elements.flatMap((e, i) => (e.conversations.length + 1 === f.bins[bin].lo ? [i] : []));
    assert.ok(want.length > 0 && want.length < elements.length);
    const shown = waitForPost(
      api,
      uri,
      (m: HostMessage): m is Extract<HostMessage, { type: 'showLines' }> => m.type === 'showLines',
      'the list filter',
      TIMEOUT,
    );
    assert.ok(await api.overview.sendFromWebview(uri, { type: 'select', sel: { chart: 'turns', bin } }));
    assert.deepEqual((await shown).lines, want);
    assert.equal(api.editor.documentState(uri)?.webviews, 1);
  });
});
