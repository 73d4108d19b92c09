// Media in the dialogue editor, in the real VS Code extension host: a record's local image (an
// LLaMA-Factory `images` column with an <image> placeholder, a v1 image_url part) reaches the
// webview as a webview URI of the file inside the dataset's folder; a remote image URL is a
// placeholder without a source (nothing for the webview to request) while parrot.editor.remoteMedia
// is off; a file outside the dataset's folders is not served.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ParrotApi } from '../../src/extension/extension';
import type { HostMessage, RecordOk, RecordView } from '../../src/protocol';
import { waitForPost } from './support/webview';

const VIEW_TYPE = 'parrot.dialogueEditor';
// A 1×1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'no workspace folder is open');
  return folder.uri.fsPath;
}

describe('dialogue editor: media thumbnails', function () {
  this.timeout(60_000);
  let api: ParrotApi;
  let dir = '';
  let outsideDir = '';

  before(async () => {
    const ext = vscode.extensions.getExtension<ParrotApi>('parrot-studio.parrot-studio');
    assert.ok(ext);
    api = await ext.activate();
    dir = fs.mkdtempSync(path.join(workspaceDir(), 'media-'));
    outsideDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-outside-'));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(outsideDir, { recursive: true, force: true });
  });

  function recordFor(uri: vscode.Uri, line: number): Promise<Extract<HostMessage, { type: 'record' }>> {
    return waitForPost(
      api,
      uri,
      (m): m is Extract<HostMessage, { type: 'record' }> => m.type === 'record' && m.record.line === line,
      `record ${line + 1}`,
    );
  }

  function ok(r: RecordView): RecordOk {
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    return r;
  }

  it('serves a local image as a webview URI and keeps a remote one as a placeholder', async () => {
    fs.mkdirSync(path.join(dir, 'img'));
    fs.writeFileSync(path.join(dir, 'img', 'cat.png'), PNG);
    const outside = path.join(outsideDir, 'secret.png');
    fs.writeFileSync(outside, PNG);
    const lines = [
      {
        messages: [
          { role: 'user', content: '<image>What animal is this?' },
          { role: 'assistant', content: 'A cat.' },
        ],
        images: ['img/cat.png'],
      },
      {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'And this one?' },
              { type: 'image_url', image_url: { url: 'https://example.invalid/dog.png' } },
            ],
          },
          { role: 'assistant', content: 'A dog.' },
        ],
      },
      {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', value: outside },
              { type: 'text', value: 'Hm?' },
            ],
          },
          { role: 'assistant', content: [{ type: 'text', value: 'Not shown.' }] },
        ],
      },
    ];
    const file = path.join(dir, 'mm.jsonl');
    const bytes = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
    fs.writeFileSync(file, bytes);
    const uri = vscode.Uri.file(file);
    const first = recordFor(uri, 0);
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE, { preview: false });
    const local = ok((await first).record);
    const m0 = local.media ?? [];
    assert.equal(m0.length, 1, JSON.stringify(m0));
    const cat = m0[0];
    assert.deepEqual(
      [cat.section, cat.turn, cat.kind, cat.ref, cat.state],
      ['turns', 0, 'image', 'img/cat.png', 'shown'],
    );
    assert.ok(cat.src, 'the local image has no source');
    const src = vscode.Uri.parse(cat.src);
    assert.notEqual(src.scheme, 'file', 'a file: URI is not loadable by the webview');
    assert.ok(
      decodeURIComponent(cat.src).includes(path.join(dir, 'img', 'cat.png').replace(/\\/g, '/')),
      `${cat.src} is not the webview URI of the file`,
    );

    const second = recordFor(uri, 1);
    assert.ok(await api.editor.sendFromWebview(uri, { type: 'openRecord', line: 1 }));
    const remote = ok((await second).record).media ?? [];
    assert.equal(remote.length, 1);
    assert.equal(remote[0]?.state, 'remote');
    assert.equal(remote[0]?.ref, 'https://example.invalid/dog.png');
    assert.equal(remote[0]?.src, undefined, 'a remote image got a source with remote media off');

    const third = recordFor(uri, 2);
    assert.ok(await api.editor.sendFromWebview(uri, { type: 'openRecord', line: 2 }));
    const out = ok((await third).record).media ?? [];
    assert.deepEqual(
      out.map((m) => [m.state, m.src]),
      [['outside', undefined]],
    );
    // Display only: the file is as it was.
    assert.equal(fs.readFileSync(file, 'utf8'), bytes);
  });
});
