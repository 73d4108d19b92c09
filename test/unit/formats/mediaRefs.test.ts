import * as assert from 'node:assert/strict';
import { parseRecord } from '../../../src/core/formats';
import { mediaRefs } from '../../../src/core/formats/mediaRefs';

function refs(record: unknown): [string, number, string, string][] {
  const r = parseRecord(JSON.stringify(record));
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return mediaRefs(r.sample).map((m) => [m.section, m.turn, m.kind, m.ref]);
}

describe('formats/mediaRefs', () => {
  it('matches LLaMA-Factory columns to the placeholders in order, across turns and kinds', () => {
    assert.deepEqual(
      refs({
        messages: [
          { role: 'user', content: '<image><image>Compare these.' },
          { role: 'assistant', content: 'The first is brighter.' },
          { role: 'user', content: 'And <video> with <image>?' },
          { role: 'assistant', content: 'Same.' },
        ],
        images: ['a.jpg', 'b.jpg', 'c.jpg'],
        videos: [['f1.jpg', 'f2.jpg']],
      }),
      [
        ['turns', 0, 'image', 'a.jpg'],
        ['turns', 0, 'image', 'b.jpg'],
        ['turns', 2, 'video', 'f1.jpg'],
        ['turns', 2, 'image', 'c.jpg'],
      ],
    );
  });

  it('lists entries no placeholder takes as unplaced (turn -1)', () => {
    assert.deepEqual(
      refs({
        conversations: [
          { from: 'human', value: 'No placeholder here.' },
          { from: 'gpt', value: 'Fine.' },
        ],
        images: ['lonely.png'],
      }),
      [['turns', -1, 'image', 'lonely.png']],
    );
  });

  it('reads v1 media parts and OpenAI image_url parts, in preference pairs too', () => {
    assert.deepEqual(
      refs({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', value: 'What is it?' },
              { type: 'image_url', value: 'x.png' },
            ],
          },
          { role: 'assistant', content: [{ type: 'text', value: 'A fox.' }] },
        ],
      }),
      [['turns', 0, 'image', 'x.png']],
    );
    assert.deepEqual(
      refs({
        input: {
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'Describe' },
                { type: 'image_url', image_url: { url: 'https://example.invalid/p.png' } },
              ],
            },
          ],
        },
        preferred_output: [{ role: 'assistant', content: 'A park.' }],
        non_preferred_output: [{ role: 'assistant', content: 'A car.' }],
      }),
      [['prompt', 0, 'image', 'https://example.invalid/p.png']],
    );
  });
});
