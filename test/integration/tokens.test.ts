import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseRecord } from '../../src/core/formats';
import { recordTokens } from '../../src/core/chat/lengths';
import { loadChatTokenizer } from '../../src/core/chat/tokenizer';
import { datasetsIn, qwen3ModelDir } from '../support/fixtures';

const EXTENSION_ID = 'parrot-studio.parrot-studio';

function cutoffDiagnostics(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages
    .getDiagnostics(uri)
    .filter((d) => d.source === 'parrot' && d.code === 'tokens/cutoff');
}

/** Resolves when the tokens/cutoff diagnostics of `uri` satisfy `ok` (now or on a change). */
function waitFor(
  uri: vscode.Uri,
  ok: (ds: vscode.Diagnostic[]) => boolean,
  what: string,
): Promise<vscode.Diagnostic[]> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const ds = cutoffDiagnostics(uri);
      if (!ok(ds)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(ds);
    };
    const sub = vscode.languages.onDidChangeDiagnostics((e) => {
      if (e.uris.some((u) => u.toString() === uri.toString())) check();
    });
    const timer = setTimeout(() => {
      sub.dispose();
      reject(
        new Error(
          `timed out waiting for ${what}; now: ${cutoffDiagnostics(uri)
            .map((d) => d.range.start.line)
            .join(', ')}`,
        ),
      );
    }, 60_000);
    check();
  });
}

describe('tokens/cutoff with Qwen3 chat template', function () {
  this.timeout(120_000);
  let root = '';
  const created: string[] = [];

  before(async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    await ext.activate();
    root = ext.extensionPath;
  });

  afterEach(async () => {
    const cfg = vscode.workspace.getConfiguration('parrot.tokens');
    await cfg.update('cutoff', undefined, vscode.ConfigurationTarget.Workspace);
    await cfg.update('tokenizer', undefined, vscode.ConfigurationTarget.Workspace);
  });

  after(() => {
    for (const f of created) fs.rmSync(f, { force: true });
  });

  it('flags the records whose last assistant turn the cutoff cuts, where the cut falls; off without a cutoff', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const lines = fs
      .readFileSync(path.join(datasetsIn(root), 'fastchat_dummy_conversation.jsonl'), 'utf8')
      .split('\n')
      .slice(0, 30);
    const file = path.join(folder.uri.fsPath, 'tokens-cutoff.jsonl');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    created.push(file);
    const uri = vscode.Uri.file(file);
    const model = qwen3ModelDir(root);
    const tok = loadChatTokenizer(model);
    const cutoff = 60;
    // The records over the cutoff at their last assistant turn, from the rendered token spans.
    const expected = lines.flatMap((l, i) => {
      const r = parseRecord(l);
      if (!r.ok) return [];
      const last = recordTokens(tok, r.sample)[0]
        ?.turns.filter((t) => t.role === 'assistant')
        .pop();
      return last && last.tokenEnd > cutoff ? [i] : [];
    });
    assert.ok(expected.length > 3 && expected.length < lines.length);

    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const cfg = vscode.workspace.getConfiguration('parrot.tokens');
    await cfg.update('tokenizer', model, vscode.ConfigurationTarget.Workspace);
    await cfg.update('cutoff', cutoff, vscode.ConfigurationTarget.Workspace);
    const ds = await waitFor(uri, (d) => d.length === expected.length, `${expected.length} cutoff problems`);
    assert.deepEqual(
      ds.map((d) => d.range.start.line),
      expected,
    );
    // A cut inside the last answer: the marked text is that answer's tail, and what comes before
    // it renders to exactly `cutoff` tokens.
    const inside = ds.filter((d) => /is cut after/.test(d.message) && !doc.getText(d.range).startsWith('"'));
    assert.ok(inside.length > 0);
    for (const d of inside) {
      const r = parseRecord(doc.lineAt(d.range.start.line).text);
      assert.ok(r.ok);
      const [c] = recordTokens(tok, r.sample);
      const last = c?.turns.filter((t) => t.role === 'assistant').pop();
      assert.ok(c && last);
      const tail = JSON.parse(`"${doc.getText(d.range)}"`) as string;
      assert.ok(c.text.slice(last.contentStart, last.contentEnd).endsWith(tail));
      assert.equal(tok.count(c.text.slice(0, last.contentEnd - tail.length)), cutoff);
    }
    await cfg.update('cutoff', undefined, vscode.ConfigurationTarget.Workspace);
    await waitFor(uri, (d) => d.length === 0, 'no cutoff problems once the cutoff is unset');
  });

  it('flags preference pairs identical or empty after truncation', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const shared = 'Paris is the capital of France, on the Seine, with a long and storied history. ';
    const pair = (prompt: string, a: string, b: string): string =>
      JSON.stringify({
        conversations: [{ from: 'human', value: prompt }],
        chosen: { from: 'gpt', value: a },
        rejected: { from: 'gpt', value: b },
      });
    const model = qwen3ModelDir(root);
    const tok = loadChatTokenizer(model);
    const prompt = 'Tell me about the capital of France.';
    const header = tok.count(tok.render([{ role: 'user', content: prompt }], { addGenerationPrompt: true }));
    const cutoff = header + 10; // inside the shared beginning of both answers
    const lines = [
      pair(prompt, shared + 'About two million people live there.', shared + 'The Eiffel Tower is there.'),
      pair('Please read all of this: ' + 'lorem ipsum dolor sit amet '.repeat(20), 'Yes.', 'No.'),
      pair(prompt, 'Paris.', 'Lyon.'),
    ];
    const file = path.join(folder.uri.fsPath, 'tokens-pairs.jsonl');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    created.push(file);
    const uri = vscode.Uri.file(file);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const cfg = vscode.workspace.getConfiguration('parrot.tokens');
    await cfg.update('tokenizer', model, vscode.ConfigurationTarget.Workspace);
    await cfg.update('cutoff', cutoff, vscode.ConfigurationTarget.Workspace);
    const ds = await waitFor(uri, (d) => d.length === 2, 'two pair problems');
    assert.deepEqual(
      ds.map((d) => d.range.start.line),
      [0, 1],
    );
    assert.match(ds[0]?.message ?? '', /identical after truncation/);
    assert.match(ds[1]?.message ?? '', /both empty after truncation/);
  });
});
