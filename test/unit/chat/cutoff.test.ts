import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { parseRecord } from '../../../src/core/formats';
import type { Sample } from '../../../src/core/model';
import { checkCutoff } from '../../../src/core/chat/cutoff';
import { recordTokens, trainingMask } from '../../../src/core/chat/lengths';
import { loadChatTokenizer, TokenizerError } from '../../../src/core/chat/tokenizer';
import { datasetsIn, qwen3ModelDir } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const DATASETS = datasetsIn(ROOT);
const QWEN3 = qwen3ModelDir(ROOT);

function record(file: string, line: number): Sample {
  const text = readFileSync(path.join(DATASETS, file), 'utf8').split('\n')[line - 1] ?? '';
  const r = parseRecord(text);
  assert.ok(r.ok);
  return r.sample;
}

function sample(json: unknown): Sample {
  const r = parseRecord(JSON.stringify(json));
  assert.ok(r.ok);
  return r.sample;
}

/** A model folder with Qwen3's real tokenizer.json and another chat template. */
function folderWithTemplate(template: string, extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-model-'));
  symlinkSync(path.join(QWEN3, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  const config = JSON.parse(readFileSync(path.join(QWEN3, 'tokenizer_config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  writeFileSync(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify({ ...config, ...extra, chat_template: template }),
  );
  return dir;
}

describe('chat templates', function () {
  this.timeout(60_000);
  const tok = loadChatTokenizer(QWEN3);

  it('renders tools, the generation prompt and special tokens as transformers does; specials are one token', () => {
    const s = record('llamafactory_glaive_toolcall_en_demo.jsonl', 1);
    const [c] = recordTokens(tok, s);
    assert.ok(c);
    assert.match(c.text, /^<\|im_start\|>system\n[^]*# Tools\n[^]*<tools>\n\{"name": /);
    assert.match(c.text, /<tool_call>\n\{"name": "search_recipes", "arguments": \{"ingredients": /);
    assert.match(c.text, /<\|im_start\|>user\n<tool_response>\n/);
    const m = [{ role: 'user', content: 'hi' }];
    assert.equal(
      tok.render(m, { addGenerationPrompt: true }),
      '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
    );
    assert.equal(tok.count('<|im_start|>'), 1);
    assert.equal(tok.count('<|im_start|>user\nhi<|im_end|>'), 5);
  });

  it('passes bos_token / eos_token and raise_exception to the template', () => {
    const dir = folderWithTemplate(
      "{% if messages[0].role != 'user' %}{{ raise_exception('first must be user') }}{% endif %}{{ bos_token }}{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}",
      { bos_token: { content: '<|endoftext|>' } },
    );
    const t = loadChatTokenizer(dir);
    assert.equal(t.render([{ role: 'user', content: 'a' }]), '<|endoftext|>a<|im_end|>');
    assert.throws(() => t.render([{ role: 'assistant', content: 'a' }]), /first must be user/);
  });

  it('says what is missing in a model folder', () => {
    const dir = folderWithTemplate('x');
    writeFileSync(path.join(dir, 'tokenizer_config.json'), '{}');
    assert.throws(
      () => loadChatTokenizer(dir),
      (e: Error) => e instanceof TokenizerError && /no chat_template/.test(e.message),
    );
    assert.throws(() => loadChatTokenizer(path.join(dir, 'nope')), /not a folder/);
  });

  it('o200k: a ChatML layout whose markers count one token each', () => {
    const o = loadChatTokenizer('o200k');
    const s = sample({
      messages: [
        { role: 'user', content: 'Hello there' },
        { role: 'assistant', content: 'Hi!' },
      ],
    });
    const [c] = recordTokens(o, s);
    assert.ok(c);
    assert.equal(c.text, '<|im_start|>user\nHello there<|im_end|>\n<|im_start|>assistant\nHi!<|im_end|>\n');
    const expected =
      4 + countTokens('user\nHello there') + countTokens('\n') * 2 + countTokens('assistant\nHi!');
    assert.equal(c.tokens, expected);
  });
});

describe('training masks', function () {
  this.timeout(60_000);
  const tok = loadChatTokenizer(QWEN3);

  it('turn spans cover the record; each policy puts loss on its turns', () => {
    // LLaMA-Factory v1: content parts and per-message loss_weight.
    const s = sample({
      messages: [
        { role: 'user', content: [{ type: 'text', value: 'What is 2+2?' }], loss_weight: 0.0 },
        { role: 'assistant', content: [{ type: 'text', value: 'Four.' }], loss_weight: 0.0 },
        { role: 'user', content: [{ type: 'text', value: 'And 3+3?' }], loss_weight: 1.0 },
        { role: 'assistant', content: [{ type: 'text', value: 'Six.' }], loss_weight: 1.0 },
      ],
    });
    const [c] = recordTokens(tok, s);
    assert.ok(c);
    assert.equal(c.tokens, tok.count(c.text));
    // Spans partition the rendering: each turn's text tokenizes to its own count.
    for (const t of c.turns) {
      assert.ok(t.located);
      assert.equal(tok.count(c.text.slice(t.start, t.end)), t.tokenEnd - t.tokenStart);
      assert.equal(
        c.text.slice(t.contentStart, t.contentEnd),
        ['What is 2+2?', 'Four.', 'And 3+3?', 'Six.'][t.turn],
      );
    }
    const body = (i: number): number => (c.turns[i]?.tokenEnd ?? 0) - (c.turns[i]?.bodyTokenStart ?? 0);
    // Assistant bodies: content + <|im_end|> (the last one after the empty think block).
    assert.equal(c.text.slice(c.turns[1]?.bodyStart, c.turns[1]?.end), 'Four.<|im_end|>');
    assert.equal(
      c.text.slice(c.turns[3]?.bodyStart, c.turns[3]?.end),
      '<think>\n\n</think>\n\nSix.<|im_end|>',
    );
    const a = trainingMask(c, 'assistant');
    assert.equal(a.lossTokens, body(1) + body(3));
    assert.deepEqual(
      a.turns.map((t) => t.lossTokens > 0),
      [false, true, false, true],
    );
    const w = trainingMask(c, 'weights');
    assert.deepEqual(
      w.turns.map((t) => t.lossTokens > 0),
      [false, false, true, true],
    );
    assert.equal(w.lossTokens, body(2) + body(3));
    const u = trainingMask(c, 'asker');
    assert.equal(u.lossTokens, body(0) + body(2));
    assert.deepEqual(trainingMask(c, 'all').ranges, [[0, c.tokens]]);
  });
});

describe('cutoff', function () {
  this.timeout(60_000);
  const tok = loadChatTokenizer(QWEN3);

  it('the last assistant turn cut: where the cut falls in its content', () => {
    const s = record('fastchat_dummy_conversation.jsonl', 3);
    const [c] = recordTokens(tok, s);
    assert.ok(c);
    const last = c.turns[c.turns.length - 1];
    assert.ok(last && last.role === 'assistant');
    const cutoff = last.bodyTokenStart + 5;
    const r = checkCutoff(tok, s, cutoff);
    assert.equal(r.over, true);
    assert.equal(r.findings.length, 1);
    const f = r.findings[0];
    assert.ok(f);
    assert.equal(f.kind, 'assistant-cut');
    assert.equal(f.at.turn, last.turn);
    assert.ok(f.at.contentOffset !== undefined && f.at.contentOffset > 0);
    // What is kept, the rendering up to the cut, is exactly `cutoff` tokens.
    assert.equal(tok.count(c.text.slice(0, last.contentStart + f.at.contentOffset)), cutoff);
    assert.match(f.message, new RegExp(`cut after 5 of its ${last.tokenEnd - last.bodyTokenStart} tokens`));
    assert.deepEqual(checkCutoff(tok, s, c.tokens).findings, []);
    assert.equal(checkCutoff(tok, s, c.tokens).over, false);
  });

  it('a prompt that alone passes the cutoff', () => {
    const s = record('fastchat_dummy_conversation.jsonl', 3);
    const [c] = recordTokens(tok, s);
    assert.ok(c);
    const r = checkCutoff(tok, s, 3);
    assert.equal(r.findings[0]?.kind, 'prompt-over');
    assert.equal(r.findings[0]?.at.turn, c.turns[0]?.turn);
  });

  it('preference pairs: identical or empty after truncation, or the answer cut', () => {
    const shared = 'The capital of France is Paris, a city on the Seine with a long history. ';
    const s = sample({
      conversations: [{ from: 'human', value: 'Tell me about the capital of France.' }],
      chosen: { from: 'gpt', value: shared + 'It has about two million inhabitants.' },
      rejected: { from: 'gpt', value: shared + 'It is known for the Eiffel Tower.' },
    });
    const [ch, rj] = recordTokens(tok, s);
    assert.ok(ch && rj);
    const answer = ch.turns[1];
    assert.ok(answer);
    const r1 = checkCutoff(tok, s, answer.bodyTokenStart + 6);
    assert.equal(r1.findings[0]?.kind, 'pair-identical');
    assert.equal(r1.findings[0]?.at.side, 'rejected');
    const r2 = checkCutoff(tok, s, answer.bodyTokenStart - 1);
    assert.equal(r2.findings[0]?.kind, 'pair-empty');
    const r3 = checkCutoff(tok, s, Math.min(ch.tokens, rj.tokens) - 2);
    assert.equal(r3.findings[0]?.kind, 'assistant-cut');
  });
});
