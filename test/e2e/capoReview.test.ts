// Reviewing CaPO pairs in the dialogue editor of the real workbench, against a loopback server
// started here: the review of a lower turn is scrolled into view, Keep leaves the pane where it was,
// Discard reads as a sentence, a running action marks its record in the list and has its own
// Cancel, and turns without text (new, empty turns; an answer that is only a tool call) offer no
// Negative actions.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { sharegpt } from '../support/dialogues';
import { TestOpenAIServer } from '../support/openai-server';
import { findWebviewFrame, openFile, runCommand, startWorkbench } from './support/workbench';

const FILE = 'capo-review.jsonl';
const PAIRS = 'capo-review.capo.jsonl';

/** Thirty turns: the lower ones are far below the first screen. */
const TURNS = Array.from({ length: 30 }, (_, i) =>
  i % 2 === 0
    ? `Question ${i / 2 + 1}: and what about that one? ${'Tell me more about the earlier part. '.repeat(6)}`
    : `Answer ${(i + 1) / 2}: ${'It depends on the data size and on what you measured before. '.repeat(4)}`,
);

describe('dialogue editor: CaPO review in view, Keep keeps the scroll, Cancel and busy marks (UI)', () => {
  let frame: Frame;
  let server: TestOpenAIServer;
  let workspace: string;
  let settingsFile: string;

  before(async function () {
    this.timeout(300_000);
    const wb = await startWorkbench();
    workspace = wb.workspace;
    server = await new TestOpenAIServer({
      responder: () => 'A generic reply that ignores what was said before.',
      models: ['parrot-ask', 'gpt-test'],
    }).start();
    settingsFile = path.join(workspace, '.vscode', 'settings.json');
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    fs.writeFileSync(
      settingsFile,
      JSON.stringify({
        'parrot.endpoint.baseUrl': server.baseUrl,
        'parrot.models.asker': 'parrot-ask',
        'parrot.models.answerer': 'gpt-test',
        'parrot.capo.outputFile': path.join(workspace, PAIRS),
      }),
    );
    fs.writeFileSync(
      path.join(workspace, FILE),
      [
        sharegpt(TURNS, 'long-1'),
        JSON.stringify({
          id: 'empty-2',
          conversations: [
            { from: 'human', value: '' },
            { from: 'gpt', value: '' },
          ],
        }),
        JSON.stringify({
          id: 'tools-3',
          messages: [
            { role: 'user', content: 'What is the weather in Paris?' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                { id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
              ],
            },
            { role: 'tool', tool_call_id: 'c1', content: '18 C' },
            { role: 'assistant', content: 'It is 18 C.' },
            { role: 'user', content: 'And tomorrow there?' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                { id: 'c2', type: 'function', function: { name: 'weather', arguments: '{"day":1}' } },
              ],
            },
          ],
        }),
      ].join('\n') + '\n',
    );
    await openFile(FILE);
    await runCommand('Parrot: Open in Dialogue Editor');
    frame = await findWebviewFrame('.detail-meta .chip:has-text("id long-1")', 60_000);
    // The settings reached the webview: the actions are enabled.
    await frame
      .locator('.turn[data-key="turns:9"] .gen-btn[aria-label="Negative: neglect"]:not([aria-disabled])')
      .waitFor({ timeout: 30_000 });
  });

  after(async () => {
    fs.rmSync(settingsFile, { force: true });
    await runCommand('View: Close All Editors').catch(() => undefined);
    await server?.close();
  });

  /** Top and bottom of `selector` relative to the pane's visible area, and the pane's scroll. */
  function place(
    selector: string,
  ): Promise<{ top: number; bottom: number; height: number; scrollTop: number }> {
    return frame.evaluate(
      `(() => {
        const body = document.querySelector('.detail-body');
        const box = document.querySelector(${JSON.stringify(selector)}).getBoundingClientRect();
        const view = body.getBoundingClientRect();
        return { top: box.top - view.top, bottom: box.bottom - view.top, height: view.height, scrollTop: body.scrollTop };
      })()`,
    );
  }

  /** Scrolls the pane so that the bottom of `selector` sits just above the pane's lower edge. */
  async function putAtBottom(selector: string): Promise<void> {
    await frame.evaluate(
      `(() => {
        const body = document.querySelector('.detail-body');
        const box = document.querySelector(${JSON.stringify(selector)}).getBoundingClientRect();
        const view = body.getBoundingClientRect();
        body.scrollTop += box.bottom - view.bottom + 8;
      })()`,
    );
  }

  it('a running action marks its record in the list and has its own Cancel', async () => {
    server.options.latencyMs = 30_000;
    const button = '.turn[data-key="turns:3"] .gen-btn[aria-label="Negative: misread"]';
    await putAtBottom(button);
    await frame.locator(button).click();
    const row = frame.locator('.vrow.busy .busy-mark');
    await row.waitFor({ timeout: 15_000 });
    assert.equal(await frame.locator('.vrow.busy').count(), 1, 'one record is busy');
    assert.match((await frame.locator('.vrow.busy').getAttribute('aria-label')) ?? '', /generating/);
    const cancel = frame.getByRole('button', { name: 'Cancel Negative: misread' });
    await cancel.click();
    await frame.locator('.action-status.action-cancelled').first().waitFor({ timeout: 10_000 });
    assert.match(
      await frame.locator('.action-status.action-cancelled').first().innerText(),
      /Negative: misread: stopped\./,
    );
    await frame.locator('.vrow.busy').waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(fs.existsSync(path.join(workspace, PAIRS)), false, 'nothing kept');
  });

  it('the review of a lower turn is scrolled into view; Keep leaves the pane where it was', async () => {
    server.options.latencyMs = 0;
    const button = '.turn[data-key="turns:9"] .gen-btn[aria-label="Negative: neglect"]';
    await putAtBottom(button);
    await frame.locator(button).click();
    const review = frame.getByRole('region', { name: /Review of the neglect pair for turn 10/ });
    await review.waitFor({ timeout: 30_000 });
    // Scrolling happens right after the review is drawn.
    const deadline = Date.now() + 5_000;
    for (;;) {
      const p = await place('section.review');
      if ((p.top >= -1 && p.bottom <= p.height + 1) || Date.now() > deadline) break;
      await frame.page().waitForTimeout(100);
    }
    const shown = await place('section.review');
    assert.ok(
      shown.top >= -1 && shown.bottom <= shown.height + 1,
      `the whole review is in view: ${JSON.stringify(shown)}`,
    );
    const keep = review.getByRole('button', { name: 'Keep' });
    const before = (await place('section.review')).scrollTop;
    await keep.click();
    await frame.locator('.action-status.action-done', { hasText: 'neglect pair was kept' }).waitFor({
      timeout: 15_000,
    });
    const after = (await place('.action-status.action-done')).scrollTop;
    assert.ok(before > 1000, `the pane was scrolled down (${before})`);
    assert.ok(Math.abs(after - before) <= 2, `the pane stays where it was: ${before} -> ${after}`);
    const out = path.join(workspace, PAIRS);
    assert.equal(fs.readFileSync(out, 'utf8').trim().split('\n').length, 1);
  });

  it('Discard reads as a sentence', async () => {
    const button = '.turn[data-key="turns:11"] .gen-btn[aria-label="Negative: hallucinate"]';
    await putAtBottom(button);
    await frame.locator(button).click();
    const review = frame.getByRole('region', { name: /Review of the hallucinate pair for turn 12/ });
    await review.waitFor({ timeout: 30_000 });
    await review.getByRole('button', { name: 'Discard' }).click();
    const status = frame.locator('.action-status.action-discarded');
    await status.waitFor({ timeout: 15_000 });
    assert.equal((await status.innerText()).trim(), 'The hallucinate pair was discarded.');
  });

  it('no Negative actions on empty turns of a new dialogue nor on an answer that is only a tool call', async () => {
    const { page } = await startWorkbench();
    await frame.locator('.vlist').focus();
    await page.keyboard.press('j');
    await frame.locator('.detail-meta .chip', { hasText: 'id empty-2' }).waitFor({ timeout: 15_000 });
    assert.equal(await frame.locator('.gen-btn[aria-label^="Negative:"]').count(), 0, 'empty turns');
    assert.equal(await frame.locator('.turn .gen-btn').count(), 0, 'no generation from an empty question');
    assert.equal(
      await frame.getByRole('button', { name: 'Extend…' }).count(),
      0,
      'no Extend on a dialogue with no question yet',
    );

    await frame.locator('.vlist').focus();
    await page.keyboard.press('j');
    // An OpenAI-messages record shows no id chip: its heading names it.
    await frame.getByText('Record 3', { exact: true }).waitFor({ timeout: 15_000 });
    const negatives = (i: number) =>
      frame.locator(`.turn[data-key="turns:${i}"] .gen-btn[aria-label^="Negative:"]`);
    assert.equal(await negatives(1).count(), 0, 'the first answer is only a tool call');
    assert.equal(await negatives(5).count(), 0, 'the last answer is only a tool call');
    await frame.locator('.vlist').focus();
    await page.keyboard.press('k');
    await page.keyboard.press('k');
    await frame.locator('.detail-meta .chip', { hasText: 'id long-1' }).waitFor({ timeout: 15_000 });
  });
});
