import * as assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { convertSample, parseRecord, recordToLine } from '../../../src/core/formats';
import { validateFile, validateText } from '../../../src/core/validate';
import { datasetsIn } from '../../support/fixtures';

const LF = path.join(datasetsIn(path.resolve(__dirname, '..', '..', '..', '..')), 'llamafactory-data');
const MLLM = path.join(LF, 'mllm_demo.jsonl');
const LINES = readFileSync(MLLM, 'utf8').split('\n').filter(Boolean);

interface Mllm {
  messages: { role: string; content: string }[];
  images: string[];
}

const media = (text: string, root = LF) =>
  validateText(text, { mediaRoot: root }).filter((d) => d.code.startsWith('media/'));

describe('validate: multimodal records', () => {
  it('mllm_demo (JSONL rendering) has no media problem: every image exists, every <image> has its entry', async () => {
    assert.deepEqual(media(LINES.join('\n')), []);
    const r = await validateFile(MLLM, { workers: 0 });
    assert.deepEqual(
      r.diagnostics.filter((d) => d.code.startsWith('media/')),
      [],
    );
  });

  it('a missing image is an error at its path, found through validateFile from the dataset folder', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-media-'));
    mkdirSync(path.join(dir, 'mllm_demo_data'));
    copyFileSync(path.join(LF, 'mllm_demo_data', '1.jpg'), path.join(dir, 'mllm_demo_data', '1.jpg'));
    const file = path.join(dir, 'mllm.jsonl');
    writeFileSync(file, LINES.slice(0, 2).join('\n') + '\n');
    const r = await validateFile(file, { workers: 0 });
    const d = r.diagnostics.filter((x) => x.code.startsWith('media/'));
    // Line 1 names 1.jpg (copied); line 2 names 2.jpg (not copied).
    assert.equal(d.length, 1);
    assert.equal(d[0].code, 'media/missing-file');
    assert.equal(d[0].severity, 'error');
    assert.equal(d[0].line, 1);
    assert.equal(LINES[1].slice(d[0].startCol, d[0].endCol), '"mllm_demo_data/2.jpg"');
    assert.match(d[0].message, /image "mllm_demo_data\/2.jpg" does not exist/);
  });

  it('placeholders and images that do not match are an error at the images column', () => {
    const rec = JSON.parse(LINES[0]) as Mllm;
    rec.images = rec.images.slice(0, 1);
    const line = JSON.stringify(rec);
    const d = media(line);
    assert.equal(d.length, 1);
    assert.equal(d[0].code, 'media/count');
    assert.equal(line.slice(d[0].startCol, d[0].endCol), '["mllm_demo_data/1.jpg"]');
    assert.match(d[0].message, /2 <image> placeholder\(s\) in the text but 1 image\(s\) in "images"/);
  });

  it('checks LLaMA-Factory v1 image_url parts (paths from the project folder) and OpenAI image_url parts', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-media-'));
    mkdirSync(path.join(dir, 'data', 'mllm_demo_data'), { recursive: true });
    copyFileSync(path.join(LF, 'mllm_demo_data', '1.jpg'), path.join(dir, 'data', 'mllm_demo_data', '1.jpg'));
    const root = path.join(dir, 'data');
    const v1 = (p: string): string =>
      JSON.stringify({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', value: p },
              { type: 'text', value: 'Who?' },
            ],
          },
          { role: 'assistant', content: [{ type: 'text', value: 'They.' }] },
        ],
      });
    assert.deepEqual(media(v1('data/mllm_demo_data/1.jpg'), root), []);
    const bad = v1('data/mllm_demo_data/9.jpg');
    const d = media(bad, root);
    assert.equal(d.length, 1);
    assert.equal(bad.slice(d[0].startCol, d[0].endCol), '"data/mllm_demo_data/9.jpg"');
    const oa = (url: string): string =>
      JSON.stringify({
        messages: [
          { role: 'user', content: [{ type: 'image_url', image_url: { url } }] },
          { role: 'assistant', content: 'A cat.' },
        ],
      });
    assert.deepEqual(media(oa('https://example.com/cat.png'), root), [], 'remote URLs are not fetched');
    assert.deepEqual(media(oa('data:image/png;base64,AAAA'), root), []);
    assert.equal(media(oa('mllm_demo_data/none.png'), root).length, 1);
    assert.deepEqual(media(oa('mllm_demo_data/1.jpg'), root), []);
  });

  it('the media rules can be turned off', () => {
    const rec = JSON.parse(LINES[0]) as Mllm;
    rec.images = ['nowhere.jpg'];
    const d = validateText(JSON.stringify(rec), {
      mediaRoot: LF,
      rules: { 'media/count': 'off', 'media/missing-file': 'off' },
    });
    assert.ok(!d.some((x) => x.code.startsWith('media/')));
  });
});

describe('formats: multimodal records are kept exactly', () => {
  it('mllm_demo round-trips byte for byte, and an edited turn keeps images and placeholders', () => {
    for (const line of LINES) {
      const r = parseRecord(line);
      assert.ok(r.ok);
      assert.equal(recordToLine(r.sample, r.layout), line);
    }
    const r = parseRecord(LINES[0]);
    assert.ok(r.ok && r.sample.kind === 'dialogue');
    r.sample.turns[1].content = 'Edited.';
    const out = JSON.parse(recordToLine(r.sample, r.layout)) as Mllm;
    const orig = JSON.parse(LINES[0]) as Mllm;
    assert.deepEqual(out.images, orig.images);
    assert.equal(out.messages[0].content, orig.messages[0].content);
  });

  it('convert keeps the media columns and placeholders; into v1 they become image_url parts, and back', () => {
    for (const line of LINES) {
      const orig = JSON.parse(line) as Mllm;
      const r = parseRecord(line);
      assert.ok(r.ok);
      const sg = convertSample(r.sample, 'sharegpt');
      assert.deepEqual(sg.losses, []);
      const sv = sg.value as { conversations: { value: string }[]; images: string[] };
      assert.deepEqual(sv.images, orig.images);
      assert.deepEqual(
        sv.conversations.map((c) => c.value),
        orig.messages.map((m) => m.content),
      );
      const v1 = convertSample(r.sample, 'llamafactory-v1');
      assert.deepEqual(v1.losses, []);
      const vv = v1.value as { messages: { content: { type: string; value: string }[] }[]; images?: unknown };
      assert.equal(vv.images, undefined);
      const parts = vv.messages.flatMap((m) => m.content).filter((p) => p.type === 'image_url');
      assert.deepEqual(
        parts.map((p) => p.value),
        orig.images,
      );
      // v1 text around the placeholder, in order: "<image>Who are they?" -> [image, "Who are they?"].
      const first = vv.messages[0].content;
      assert.equal(first[0].type, 'image_url');
      const back = parseRecord(JSON.stringify(v1.value));
      assert.ok(back.ok);
      const oa = convertSample(back.sample, 'openai');
      assert.deepEqual(oa.losses, []);
      const ov = oa.value as { messages: { content: string | { text: string }[] }[]; images: string[] };
      assert.deepEqual(ov.images, orig.images);
      // Text-only v1 turns stay lists of text parts in OpenAI chat; their text is the original.
      assert.deepEqual(
        ov.messages.map((m) =>
          typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(''),
        ),
        orig.messages.map((m) => m.content),
      );
    }
  });
});
