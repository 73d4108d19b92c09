// The dialogue editor's inline generation actions in the real workbench: the buttons exist with
// accessible names on the right turns and are reachable from the keyboard; with the endpoint set
// (workspace settings pointing at a loopback server started here), "Negative: neglect" shows the
// generated pair side by side in the webview, and Keep writes it to the preference file.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { BAKERY_TURNS, sharegpt } from '../support/dialogues';
import { TestOpenAIServer, type ChatCall } from '../support/openai-server';
import { findWebviewFrame, openFile, runCommand, screenshot, startWorkbench } from './support/workbench';

const FILE = 'editor-actions.jsonl';
const PAIRS = 'editor-actions.capo.jsonl';

const TURNS = BAKERY_TURNS;

function responder(call: ChatCall): string {
  if (call.body.model === 'parrot-ask') return 'What would a shorter slogan look like?';
  return 'Crumb Corner is a short name for a bakery that sells bread.';
}

/** Waits until `test` holds, checking every 200 ms. */
async function until(what: string, test: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('dialogue editor: inline generation actions (UI)', () => {
  let frame: Frame;
  let server: TestOpenAIServer;
  let workspace: string;
  let settingsFile: string;

  before(async function () {
    this.timeout(300_000);
    const wb = await startWorkbench();
    workspace = wb.workspace;
    server = await new TestOpenAIServer({ responder, models: ['parrot-ask', 'gpt-test'] }).start();
    // The endpoint for this workbench: workspace settings (workspace trust is off in the test host).
    settingsFile = path.join(workspace, '.vscode', 'settings.json');
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    fs.writeFileSync(
      settingsFile,
      JSON.stringify(
        {
          'parrot.endpoint.baseUrl': server.baseUrl,
          'parrot.models.asker': 'parrot-ask',
          'parrot.models.answerer': 'gpt-test',
          'parrot.capo.outputFile': path.join(workspace, PAIRS),
        },
        null,
        2,
      ),
    );
    fs.writeFileSync(
      path.join(workspace, FILE),
      [sharegpt(TURNS, 'act-1'), sharegpt(['Hi', 'Hello!', 'Tell me a joke.'], 'act-2')].join('\n') + '\n',
    );
    await openFile(FILE);
    await runCommand('Parrot: Open in Dialogue Editor');
    frame = await findWebviewFrame('.detail-meta .chip:has-text("id act-1")', 60_000);
  });

  after(async () => {
    fs.rmSync(settingsFile, { force: true });
    await runCommand('View: Close All Editors').catch(() => undefined);
    await server?.close();
  });

  it('shows the actions with accessible names on the right turns, reachable from the keyboard', async () => {
    const turn = (i: number) => frame.locator(`.turn[data-key="turns:${i}"]`);
    for (const i of [1, 3, 5]) {
      for (const strategy of ['neglect', 'hallucinate', 'misread'])
        assert.equal(
          await turn(i)
            .getByRole('button', { name: `Negative: ${strategy}`, exact: true })
            .count(),
          1,
          `turn ${i + 1}: Negative: ${strategy}`,
        );
      assert.equal(await turn(i).getByRole('button', { name: 'Ask follow-up after this' }).count(), 0);
    }
    for (const i of [0, 2, 4]) {
      assert.equal(
        await turn(i).getByRole('button', { name: 'Ask follow-up after this', exact: true }).count(),
        1,
        `turn ${i + 1}: Ask follow-up after this`,
      );
      assert.equal(
        await turn(i)
          .getByRole('button', { name: /^Negative:/ })
          .count(),
        0,
      );
    }
    assert.equal(await frame.locator('.detail-actions').getByRole('button', { name: 'Extend…' }).count(), 1);
    // The settings reached the webview: the actions are enabled.
    await frame
      .locator('.turn[data-key="turns:5"] .gen-btn[aria-label="Negative: neglect"]:not([aria-disabled])')
      .waitFor({ timeout: 30_000 });
    // Tab from a turn goes to its first action, with a visible focus ring.
    const { page } = await startWorkbench();
    await turn(1).focus();
    await page.keyboard.press('Tab');
    const focused = await frame.evaluate<{ label: string | null; outline: string }>(
      `(() => { const a = document.activeElement; return { label: a && a.getAttribute('aria-label'), outline: a ? getComputedStyle(a).outlineStyle : '' }; })()`,
    );
    assert.equal(focused.label, 'Negative: neglect');
    assert.notEqual(focused.outline, 'none', 'focus is visible');

    // A dialogue that ends with a question offers "Answer".
    await frame.locator('.vlist').focus();
    await page.keyboard.press('j');
    await frame.locator('.detail-meta .chip', { hasText: 'id act-2' }).waitFor({ timeout: 15_000 });
    assert.equal(
      await frame
        .locator('.turn[data-key="turns:2"]')
        .getByRole('button', { name: 'Answer this question' })
        .count(),
      1,
    );
    await page.keyboard.press('k');
    await frame.locator('.detail-meta .chip', { hasText: 'id act-1' }).waitFor({ timeout: 15_000 });
  });

  it('"Negative: neglect" shows the pair side by side for review; Keep writes it', async () => {
    const block = frame.locator('.turn[data-key="turns:5"]');
    await block.getByRole('button', { name: 'Negative: neglect', exact: true }).click();
    const review = frame.getByRole('region', { name: /Review of the neglect pair for turn 6/ });
    await review.waitFor({ timeout: 30_000 });
    const chosen = await review.getByRole('region', { name: 'Chosen' }).innerText();
    const rejected = await review.getByRole('region', { name: 'Rejected' }).innerText();
    assert.ok(chosen.includes('Daily Crumb.'), chosen);
    assert.ok(rejected.includes('Crumb Corner is a short name'), rejected);
    // Word-level differences are marked.
    assert.ok((await review.locator('ins.diff-added').count()) > 0, 'added words are marked');
    assert.deepEqual(server.chatRequests.at(-1)?.body.messages, [{ role: 'user', content: TURNS[4] }]);
    await review.scrollIntoViewIfNeeded();
    const shot = await screenshot('editor-actions-review');
    assert.ok(fs.statSync(shot).size > 10_000);

    const out = path.join(workspace, PAIRS);
    assert.equal(fs.existsSync(out), false, 'nothing is written before Keep');
    await review.getByRole('button', { name: 'Keep' }).click();
    await until(`${PAIRS} to hold the pair`, () => fs.existsSync(out) && fs.readFileSync(out, 'utf8') !== '');
    const pair = JSON.parse(fs.readFileSync(out, 'utf8').trim()) as {
      strategy: string;
      source: { record: number; turn: number };
    };
    assert.equal(pair.strategy, 'neglect');
    assert.deepEqual([pair.source.record, pair.source.turn], [1, 6]);
    await frame.locator('.action-status.action-done', { hasText: 'neglect pair was kept' }).waitFor({
      timeout: 15_000,
    });
    assert.equal(await review.count(), 0, 'the review is gone');
  });
});
