// The MT-Bench++ results view in the real workbench, from a run against a loopback server started
// here: the command asks for the model, the judge and Live/Batch, shows its estimate, then the view
// with the per-turn chart and tables (the README's screenshot).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestOpenAIServer, type ChatCall } from '../support/openai-server';
import { findWebviewFrame, openFile, runCommand, screenshot, startWorkbench } from './support/workbench';

const FILE = 'mt_bench_pp_e2e.jsonl';

/**
 * The judge grades turn k of question q lower as the session goes on, more so for some categories:
 * the chart shows a model that loses the thread as the context grows.
 */
function responder({ body }: ChatCall): string {
  const c = body.messages[1]?.content;
  const user = typeof c === 'string' ? c : '';
  if (body.model === 'judge') {
    const k = Number(/Grade the assistant's answer to turn (\d+) only/.exec(user)?.[1]);
    const q = user.length % 3;
    return `Reasons.\nRating: [[${Math.max(1, Math.min(10, 9 - Math.floor((k - 1) * 0.7) - q))}]]`;
  }
  return `An answer to turn ${body.messages.filter((m) => m.role === 'user').length}.`;
}

describe('MT-Bench++ results view (UI)', () => {
  let server: TestOpenAIServer;
  let settingsFile: string;
  before(async function () {
    this.timeout(300_000);
    const { workspace } = await startWorkbench();
    server = await new TestOpenAIServer({ responder, models: ['parrot-ask', 'gpt-test', 'judge'] }).start();
    settingsFile = path.join(workspace, '.vscode', 'settings.json');
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    fs.writeFileSync(
      settingsFile,
      JSON.stringify({
        'parrot.endpoint.baseUrl': server.baseUrl,
        'parrot.models.asker': 'parrot-ask',
        'parrot.models.answerer': 'gpt-test',
        'parrot.generation.concurrency': 4,
      }),
    );
    // The first 12 MT-Bench questions of the examples, grown to 8 turns.
    const lines = fs
      .readFileSync(path.join(workspace, 'mt_bench_questions.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .slice(0, 12)
      .map((l) => {
        const q = JSON.parse(l) as { turns: string[] };
        q.turns = [
          ...q.turns,
          ...Array.from({ length: 6 }, (_, i) => `And what about point ${i + 3} of it?`),
        ];
        return JSON.stringify(q);
      });
    fs.writeFileSync(path.join(workspace, FILE), lines.join('\n') + '\n');
  });
  after(async () => {
    fs.rmSync(settingsFile, { force: true });
    await server?.close();
  });

  it('asks model, judge and Live/Batch, runs, and shows the per-turn chart and tables', async function () {
    this.timeout(300_000);
    const { page } = await startWorkbench();
    await openFile(FILE);
    // Through the palette (the command opens its own input at once, so the palette is not awaited closed).
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input.input');
    await input.fill('>Parrot: Evaluate on MT-Bench++');
    await page
      .locator('.quick-input-list .monaco-list-row', { hasText: 'Evaluate on MT-Bench++' })
      .first()
      .click();
    // Model under test: the answer model is proposed.
    await page.locator('.quick-input-widget', { hasText: 'Model under test' }).waitFor({ timeout: 15_000 });
    assert.equal(await input.inputValue(), 'gpt-test');
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget', { hasText: 'Judge model' }).waitFor({ timeout: 15_000 });
    await input.fill('judge');
    await page.keyboard.press('Enter');
    // Live or Batch.
    const live = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Live' });
    await live.waitFor({ timeout: 15_000 });
    assert.equal(
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Batch' }).count(),
      1,
      'Batch is offered',
    );
    await live.click();
    // The estimate, then the run.
    const go = page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Evaluate' });
    await go.waitFor({ timeout: 15_000 });
    assert.match(await page.locator('.monaco-dialog-box').innerText(), /About 192 requests/);
    await go.click();
    const view = await findWebviewFrame('#turns', 120_000);
    assert.equal(await view.locator('svg rect.bar').count(), 8);
    assert.equal(await view.locator('#turns tbody tr').count(), 8);
    assert.equal(server.chatRequests.filter((c) => c.body.model === 'judge').length, 96);
    // Turn 1 scores higher than turn 8, as the judge graded.
    const mean = async (k: number): Promise<number> =>
      Number(await view.locator(`#turns tbody tr:nth-child(${k}) td`).first().innerText());
    assert.ok((await mean(1)) > (await mean(8)));
    await runCommand('View: Toggle Primary Side Bar Visibility');
    await page.keyboard.press('Escape');
    const shot = await screenshot('mt-bench-results');
    assert.ok(fs.statSync(shot).size > 10_000);
    await runCommand('View: Toggle Primary Side Bar Visibility');
  });
});
