// The dialogue editor in the real workbench: dataset text with script payloads stays inert (checked
// in the webview DOM), keyboard navigation and in-place editing work, dark and light screenshots.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { findWebviewFrame, openFile, runCommand, screenshot, startWorkbench } from './support/workbench';

const FILE = 'editor-payloads.jsonl';

const PWN = "window.__pwned=(window.__pwned||0)+1;document.title='PWNED'";
const PAYLOADS = [
  `<script>${PWN}</script>`,
  `<img src=x onerror="${PWN}">`,
  `[click me](javascript:${PWN}) and [data](data:text/html,<script>${PWN}</script>)`,
  `<iframe src="javascript:${PWN}"></iframe><iframe srcdoc="<script>${PWN}</script>"></iframe>`,
  `<svg xmlns="http://www.w3.org/2000/svg" onload="${PWN}"><script>${PWN}</script></svg>`,
  `<a href="javascript:${PWN}">html link</a> <style>body{display:none}</style>`,
];

function payloadFile(): string {
  const records: string[] = [];
  records.push(
    JSON.stringify({
      messages: [
        { role: 'system', content: `You are helpful. ${PAYLOADS[0]}` },
        {
          role: 'user',
          content:
            '## Markdown check\n\n- a **bold** item\n- `inline code`\n\n```js\nconsole.log(1)\n```\n\nSee https://example.com/docs.\n\n' +
            '| name | size |\n| :--- | ---: |\n| `a\\|b` | 2 |\n\n- [x] done task\n- [ ] open task\n\n![a parrot](https://example.com/parrot.png)',
        },
        { role: 'assistant', content: PAYLOADS[1] ?? '' },
      ],
    }),
  );
  for (const p of PAYLOADS) {
    records.push(
      JSON.stringify({
        id: `<img src=x onerror="${PWN}">`,
        conversations: [
          { from: 'human', value: p },
          { from: 'gpt', value: `Answer: ${p}` },
        ],
      }),
    );
  }
  records.push(
    JSON.stringify({
      conversations: [{ from: 'human', value: `Compare: ${PAYLOADS[4]}` }],
      chosen: { from: 'gpt', value: `The quick brown fox jumps over the lazy dog. ${PAYLOADS[2]}` },
      rejected: { from: 'gpt', value: `The quick red fox walks over the dog. ${PAYLOADS[3]}` },
    }),
  );
  records.push(`{"conversations": [{"from": "human", "value": "${PAYLOADS[0]?.replace(/"/g, '\\"')}"} oops`);
  return records.join('\n') + '\n';
}

interface InertReport {
  pwned: number;
  title: string;
  scripts: number;
  imgs: number;
  iframes: number;
  svgs: number;
  styles: number;
  handlers: number;
  styleAttrsFromText: number;
  badLinks: number;
  allScripts: string[];
}

/** Runs in the webview: what dataset text could have turned into (kept as a string: no DOM types here). */
const INERT_CHECK = `(() => {
  const root = document.getElementById('root');
  const inRoot = (sel) => (root ? root.querySelectorAll(sel).length : -1);
  return {
    pwned: window.__pwned || 0,
    title: document.title,
    scripts: inRoot('script'),
    imgs: inRoot('img'),
    iframes: inRoot('iframe, frame, object, embed'),
    svgs: inRoot('svg'),
    styles: inRoot('style, link'),
    handlers: [...(root ? root.querySelectorAll('*') : [])].filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).length,
    styleAttrsFromText: root ? root.querySelectorAll('.turn-body [style], .raw-line [style], .diff-text [style]').length : -1,
    badLinks: [...(root ? root.querySelectorAll('a') : [])].filter((a) => !/^https?:\\/\\//.test(a.getAttribute('href') || '')).length,
    allScripts: [...document.querySelectorAll('script')].map((s) =>
      s.getAttribute('src') || (s.textContent.includes('acquireVsCodeApi') ? 'vscode-api' : 'inline: ' + s.textContent.slice(0, 80))),
  };
})()`;

/** Nothing ran and no active element exists in the webview. */
async function assertInert(frame: Frame, where: string): Promise<void> {
  const report = await frame.evaluate<InertReport>(INERT_CHECK);
  assert.equal(report.pwned, 0, `${where}: a payload ran`);
  assert.notEqual(report.title, 'PWNED', `${where}: document.title changed`);
  assert.deepEqual(
    {
      scripts: report.scripts,
      imgs: report.imgs,
      iframes: report.iframes,
      svgs: report.svgs,
      styles: report.styles,
    },
    { scripts: 0, imgs: 0, iframes: 0, svgs: 0, styles: 0 },
    `${where}: elements from dataset text`,
  );
  assert.equal(report.handlers, 0, `${where}: inline event handlers`);
  assert.equal(report.styleAttrsFromText, 0, `${where}: style attributes in rendered text`);
  assert.equal(report.badLinks, 0, `${where}: links other than http(s)`);
  // Our bundle, and the script VS Code itself puts in every webview (acquireVsCodeApi).
  assert.ok(
    report.allScripts.every((s) => s.endsWith('/dist/webview.js') || s === 'vscode-api'),
    `${where}: only the bundle runs: ${report.allScripts.join(', ')}`,
  );
}

describe('dialogue editor (UI)', () => {
  let frame: Frame;

  before(async function () {
    this.timeout(300_000);
    const wb = await startWorkbench();
    fs.writeFileSync(path.join(wb.workspace, FILE), payloadFile());
    await openFile(FILE);
    await runCommand('Parrot: Open in Dialogue Editor');
    frame = await findWebviewFrame('.detail .turn', 60_000);
  });

  it('renders script payloads in turn text as inert text', async () => {
    const { page } = await startWorkbench();
    await frame.locator('.detail-title', { hasText: 'Record 1' }).waitFor({ timeout: 30_000 });
    // Markdown is rendered, from DOM nodes.
    assert.equal(await frame.locator('.detail-body h4', { hasText: 'Markdown check' }).count(), 1);
    assert.equal(await frame.locator('.detail-body li strong', { hasText: 'bold' }).count(), 1);
    assert.equal(await frame.locator('.detail-body pre code', { hasText: 'console.log(1)' }).count(), 1);
    assert.equal(await frame.locator('.detail-body a[href="https://example.com/docs"]').count(), 1);
    // GitHub tables, task lists, and images shown as a link with their alt text (never fetched).
    assert.deepEqual(await frame.locator('.detail-body table th').allInnerTexts(), ['name', 'size']);
    assert.deepEqual(await frame.locator('.detail-body table td').allInnerTexts(), ['a|b', '2']);
    assert.equal(await frame.locator('.detail-body table td').nth(1).getAttribute('align'), 'right');
    assert.equal(
      await frame.locator('.detail-body li.task-item input[type=checkbox][disabled]:checked').count(),
      1,
    );
    assert.equal(
      await frame.locator('.detail-body li.task-item input[type=checkbox]:not(:checked)').count(),
      1,
    );
    assert.equal(
      await frame.locator('.detail-body .md-image a[href="https://example.com/parrot.png"]').innerText(),
      '[image: a parrot]',
    );
    // The payload is shown as text.
    const assistant = await frame.locator('.turn.role-assistant .turn-body').first().innerText();
    assert.ok(assistant.includes('<img src=x onerror='), assistant);
    await assertInert(frame, 'record 1');

    const records = PAYLOADS.length + 3;
    await frame.locator('.vlist').focus();
    for (let i = 2; i <= records; i++) {
      await page.keyboard.press('j');
      await frame.locator('.detail-title', { hasText: `Record ${i}` }).waitFor({ timeout: 15_000 });
      await frame.locator('.detail-body .turn, .detail-body .raw-line').first().waitFor({ timeout: 15_000 });
      await assertInert(frame, `record ${i}`);
      for (const mode of ['plain', 'rendered']) {
        if (i === records) break;
        await frame.locator('vscode-checkbox', { hasText: 'Plain text' }).click();
        await frame
          .locator(mode === 'plain' ? '.turn-body pre.raw-text' : '.turn-body p')
          .first()
          .waitFor({ timeout: 15_000 });
        await assertInert(frame, `record ${i} (${mode})`);
      }
    }
    // The last record is malformed: shown raw with its error position.
    assert.equal(await frame.locator('.banner-error').count(), 1);
    assert.equal(await frame.locator('.raw-line mark.error-mark').count(), 1);
    const outer = await page.evaluate<number>('window.__pwned || 0');
    assert.equal(outer, 0, 'nothing ran in the workbench either');
  });

  it('shows preference pairs side by side with a word diff', async () => {
    await frame.locator('.vlist').focus();
    const { page } = await startWorkbench();
    await page.keyboard.press('End');
    await frame
      .locator('.detail-title', { hasText: `Record ${PAYLOADS.length + 3}` })
      .waitFor({ timeout: 15_000 });
    await page.keyboard.press('k');
    await frame.locator('.pref-grid').waitFor({ timeout: 15_000 });
    const removed = await frame.locator('.pref-chosen del.diff-removed').allInnerTexts();
    const added = await frame.locator('.pref-rejected ins.diff-added').allInnerTexts();
    assert.ok(removed.join(' ').includes('brown'), removed.join('|'));
    assert.ok(added.join(' ').includes('red'), added.join('|'));
    assert.ok(!removed.join(' ').includes('quick'), 'common words are not marked');
    await assertInert(frame, 'preference pair');
  });

  it('edits a turn from the keyboard and takes dark and light screenshots', async () => {
    const { page } = await startWorkbench();
    await frame.locator('.vlist').focus();
    await page.keyboard.press('Home');
    await frame.locator('.detail-title', { hasText: 'Record 1' }).waitFor({ timeout: 15_000 });
    await page.keyboard.press('Enter'); // into the dialogue
    await page.keyboard.press('ArrowDown'); // system turn -> user turn
    await page.keyboard.press('Enter'); // edit
    const editor = frame.locator('textarea.editor');
    await editor.waitFor({ timeout: 15_000 });
    await editor.fill('Typed in the **dialogue editor**.');
    await page.keyboard.press('Control+Enter');
    await frame.locator('.turn-body strong', { hasText: 'dialogue editor' }).waitFor({ timeout: 15_000 });
    await page
      .locator(`.tabs-container .tab.dirty[data-resource-name="${FILE}"]`)
      .waitFor({ timeout: 15_000 });
    await frame.locator('.turn-body strong', { hasText: 'dialogue editor' }).click();
    // One screenshot in the current theme, one in the other (light and dark).
    const dark = (await page.locator('.monaco-workbench.vs-dark').count()) > 0;
    const background = await frame.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    const first = await screenshot(dark ? 'editor-dark' : 'editor-light');
    await runCommand('Preferences: Toggle between Light/Dark Themes');
    await page
      .locator(dark ? '.monaco-workbench.vs:not(.vs-dark)' : '.monaco-workbench.vs-dark')
      .waitFor({ timeout: 15_000 });
    // The webview follows the theme through the --vscode-* variables.
    await frame.waitForFunction(
      `getComputedStyle(document.body).backgroundColor !== ${JSON.stringify(background)}`,
    );
    const second = await screenshot(dark ? 'editor-light' : 'editor-dark');
    assert.ok(fs.statSync(first).size > 10_000 && fs.statSync(second).size > 10_000);
    await runCommand('Preferences: Toggle between Light/Dark Themes');
    await runCommand('File: Revert File');
    await page
      .locator(`.tabs-container .tab.dirty[data-resource-name="${FILE}"]`)
      .waitFor({ state: 'detached', timeout: 15_000 });
  });
});
