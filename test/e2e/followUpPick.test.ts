// The follow-up candidates' Quick Pick in the real workbench, against a loopback server started
// here: a long candidate, cut off on its one Quick Pick line, can be read in full beside before it
// is picked; the pick stays open meanwhile, and the whole question is what gets inserted.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { sharegpt } from '../support/dialogues';
import { TestOpenAIServer } from '../support/openai-server';
import { findWebviewFrame, openFile, runCommand, startWorkbench } from './support/workbench';

const FILE = 'follow-up-pick.jsonl';
const WORDS = ['kestrel', 'osprey', 'harrier', 'merlin', 'hobby', 'buzzard', 'kite', 'eagle'];

/** A long question of its own per candidate, far beyond what one Quick Pick line shows. */
function candidate(i: number): string {
  const bird = WORDS[i % WORDS.length] ?? 'falcon';
  return (
    `Going back to the ${bird} you mentioned, how does it hunt in strong wind, ` +
    `${Array.from({ length: 30 }, (_, k) => `${bird}${k}`).join(' ')} and what ends the ${bird} hunt?`
  );
}

describe('follow-up candidates: read in full before picking (UI)', () => {
  let frame: Frame;
  let server: TestOpenAIServer;
  let settingsFile: string;

  before(async function () {
    this.timeout(300_000);
    const wb = await startWorkbench();
    server = await new TestOpenAIServer({
      responder: (call) => candidate(call.choice),
      models: ['parrot-ask', 'gpt-test'],
    }).start();
    settingsFile = path.join(wb.workspace, '.vscode', 'settings.json');
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    fs.writeFileSync(
      settingsFile,
      JSON.stringify({
        'parrot.endpoint.baseUrl': server.baseUrl,
        'parrot.models.asker': 'parrot-ask',
        'parrot.models.answerer': 'gpt-test',
      }),
    );
    fs.writeFileSync(
      path.join(wb.workspace, FILE),
      sharegpt(['Which birds of prey hover?', 'Kestrels hover, facing the wind.'], 'birds-1') + '\n',
    );
    await openFile(FILE);
    await runCommand('Parrot: Open in Dialogue Editor');
    frame = await findWebviewFrame('.turn-body :text("Kestrels hover")', 60_000);
  });

  after(async () => {
    fs.rmSync(settingsFile, { force: true });
    // The inserted question is not saved: revert it, so that closing asks nothing.
    await runCommand('File: Revert File').catch(() => undefined);
    await runCommand('View: Close All Editors').catch(() => undefined);
    await server?.close();
  });

  it('a long candidate opens in full beside while the pick stays open; picking it inserts all of it', async () => {
    const page = frame.page();
    const ask = frame.getByRole('button', { name: 'Ask follow-up after this' });
    await ask.waitFor({ timeout: 15_000 });
    // The button is enabled once the host has sent the generation settings.
    await frame.waitForFunction(
      `document.querySelector('[aria-label="Ask follow-up after this"]')?.getAttribute('aria-disabled') !== 'true'`,
      undefined,
      { timeout: 15_000 },
    );
    await ask.click();
    const widget = page.locator('.quick-input-widget');
    const first = widget.locator('.quick-input-list .monaco-list-row').first();
    await first.waitFor({ state: 'visible', timeout: 30_000 });
    const text = (await first.getAttribute('aria-label')) ?? (await first.innerText());
    const full = WORDS.map((_, i) => candidate(i)).find((c) => text.includes(c.slice(0, 60)));
    assert.ok(full, `the first row is one of the candidates: ${text.slice(0, 80)}`);
    await first.hover();
    await first.locator('.action-label[aria-label="Read in full"]').click();
    // The whole question shows beside; the pick is still open.
    const tab = page.locator('.tabs-container .tab', { hasText: 'Follow-up question' });
    await tab.first().waitFor({ timeout: 15_000 });
    const end = full.slice(-40);
    const lastWord = /\S+29\b/.exec(full)?.[0] ?? full;
    await page
      .locator('.monaco-editor .view-lines', { hasText: lastWord })
      .first()
      .waitFor({ timeout: 15_000 });
    assert.ok(await widget.isVisible(), 'the Quick Pick stays open');
    await first.click();
    await widget.waitFor({ state: 'hidden', timeout: 15_000 });
    await frame
      .locator('.turn[data-key="turns:2"] .turn-body', { hasText: end })
      .waitFor({ timeout: 15_000 });
    await tab.first().waitFor({ state: 'detached', timeout: 15_000 });
  });
});
