// Media thumbnails in the real workbench: a record's local image is an <img> whose source is a
// webview URI and which actually loads (the dataset's folder is a localResourceRoot); a remote
// image URL is a placeholder, and the page makes no request for it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame, Request } from 'playwright-core';
import { findWebviewFrame, openFile, runCommand, startWorkbench } from './support/workbench';

const FILE = 'media-thumbs.jsonl';
const REMOTE = 'https://example.invalid/remote-dog.png';
// A 2×1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAYAAAD0In+KAAAAEUlEQVR42mP8z8DwnwEJAAAbAAIBd6lW8QAAAABJRU5ErkJggg==',
  'base64',
);

describe('dialogue editor: media thumbnails (UI)', () => {
  let frame: Frame;
  const requests: string[] = [];
  const onRequest = (r: Request): void => {
    requests.push(r.url());
  };

  before(async function () {
    this.timeout(300_000);
    const wb = await startWorkbench();
    wb.page.on('request', onRequest);
    fs.mkdirSync(path.join(wb.workspace, 'media-img'), { recursive: true });
    fs.writeFileSync(path.join(wb.workspace, 'media-img', 'cat.png'), PNG);
    const records = [
      {
        messages: [
          { role: 'user', content: '<image>What animal is this?' },
          { role: 'assistant', content: 'A cat.' },
        ],
        images: ['media-img/cat.png'],
      },
      {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'And this one?' },
              { type: 'image_url', image_url: { url: REMOTE } },
            ],
          },
          { role: 'assistant', content: 'A dog.' },
        ],
      },
    ];
    fs.writeFileSync(path.join(wb.workspace, FILE), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    await openFile(FILE);
    await runCommand('Parrot: Open in Dialogue Editor');
    frame = await findWebviewFrame('.detail .turn', 60_000);
  });

  after(async () => {
    (await startWorkbench()).page.off('request', onRequest);
  });

  it('shows a local image as a loaded <img> with a webview URI', async function () {
    this.timeout(60_000);
    const img = frame.locator('.turn .media-strip img.media-thumb');
    await img.waitFor({ timeout: 30_000 });
    const src = (await img.getAttribute('src')) ?? '';
    assert.ok(
      /^https:\/\/file\+\.vscode-resource\.|^vscode-webview-resource:|vscode-resource/.test(src),
      src,
    );
    assert.ok(decodeURIComponent(src).endsWith('/media-img/cat.png'), src);
    // Loaded: the webview was allowed to read it (2×1 pixels).
    // Loaded: the webview was allowed to read it (2×1 pixels). (A string: no DOM types here.)
    const width =
      "(() => { const i = document.querySelector('img.media-thumb'); return i && i.complete ? i.naturalWidth : 0; })()";
    await frame.waitForFunction(`${width} > 0`, undefined, { timeout: 20_000 });
    assert.equal(await frame.evaluate<number>(width), 2);
  });

  it('shows a remote image as a placeholder and requests nothing from its server', async function () {
    this.timeout(60_000);
    await frame.locator('.vrow').nth(1).click();
    const placeholder = frame.locator('.media-placeholder.media-remote');
    await placeholder.waitFor({ timeout: 30_000 });
    assert.equal(await placeholder.getAttribute('data-ref'), REMOTE);
    assert.match(await placeholder.innerText(), /example\.invalid/);
    assert.equal(await frame.locator('.detail img').count(), 0, 'an <img> for a remote image');
    assert.deepEqual(
      requests.filter((u) => u.includes('example.invalid')),
      [],
    );
  });
});
