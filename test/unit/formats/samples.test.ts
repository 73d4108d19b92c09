import * as assert from 'node:assert/strict';
import {
  convertSample,
  detectRecordFormat,
  FormatError,
  newLayout,
  parseRecord,
  readRecord,
  recordToLine,
  serializeLike,
  writeRecord,
} from '../../../src/core/formats';
import type { FormatId, Sample } from '../../../src/core/model';

/** Hand-written records of the formats that have no real file in the shared datasets. */
const SAMPLES: [FormatId, unknown][] = [
  [
    'openai',
    {
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in ' },
            { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'look', arguments: '{"q":1}' } }],
          weight: 0,
        },
        { role: 'tool', tool_call_id: 'c1', content: '{"cat": true}' },
        { role: 'assistant', name: 'bot', content: 'A cat.', weight: 1, refusal: null },
      ],
      tools: [{ type: 'function', function: { name: 'look', parameters: { type: 'object' } } }],
      parallel_tool_calls: false,
    },
  ],
  [
    'trl-preference',
    {
      prompt: [{ role: 'user', content: 'Hi?' }],
      chosen: [{ role: 'assistant', content: 'Hello!' }],
      rejected: [{ role: 'assistant', content: 'Go away.' }],
      score: 3,
    },
  ],
  [
    'trl-preference',
    {
      chosen: [
        { role: 'user', content: 'Hi?' },
        { role: 'assistant', content: 'Hello!' },
      ],
      rejected: [
        { role: 'user', content: 'Hi?' },
        { role: 'assistant', content: 'Go away.' },
      ],
    },
  ],
  ['trl-preference', { prompt: 'The sky is', chosen: ' blue.', rejected: ' green.' }],
  ['trl-preference', { chosen: 'The sky is blue.', rejected: 'The sky is green.' }],
  [
    'openai-preference',
    {
      input: { messages: [{ role: 'user', content: 'Hello' }], tools: [], parallel_tool_calls: true },
      preferred_output: [{ role: 'assistant', content: 'Hi there' }],
      non_preferred_output: [{ role: 'assistant', content: 'Whatever' }],
    },
  ],
  [
    'llamafactory-v1-preference',
    {
      chosen_messages: [
        { role: 'user', content: [{ type: 'text', value: 'Q' }], loss_weight: 0.0 },
        { role: 'assistant', content: [{ type: 'text', value: 'good' }], loss_weight: 1.0 },
      ],
      rejected_messages: [
        { role: 'user', content: [{ type: 'text', value: 'Q' }], loss_weight: 0.0 },
        { role: 'assistant', content: [{ type: 'text', value: 'bad' }], loss_weight: 1.0 },
      ],
    },
  ],
  [
    'alpaca',
    {
      instruction: 'Add',
      input: '2 and 3',
      output: '5',
      system: 'You add.',
      history: [
        ['1+1?', '2'],
        ['2+2?', '4'],
      ],
      source: 'x',
    },
  ],
  [
    'sharegpt',
    {
      id: 7,
      system: 'S',
      conversations: [
        { from: 'human', value: 'a' },
        { from: 'bing', value: 'b', mark: 1 },
      ],
    },
  ],
];

describe('formats: hand-written samples', () => {
  SAMPLES.forEach(([format, value], n) => {
    it(`${format} #${n} is detected and round-trips`, () => {
      assert.equal(detectRecordFormat(value), format);
      const r = readRecord(value);
      assert.ok(!('error' in r), 'error' in r ? r.error : '');
      assert.equal(JSON.stringify(writeRecord(r.sample, r.layout)), JSON.stringify(value));
      // The layout is plain data: it survives a JSON round-trip.
      const layout = JSON.parse(JSON.stringify(r.layout)) as typeof r.layout;
      assert.equal(JSON.stringify(writeRecord(structuredClone(r.sample), layout)), JSON.stringify(value));
      for (const line of [
        JSON.stringify(value),
        serializeLike(value, { colon: ': ', comma: ', ', ascii: true, upperHex: false }),
      ]) {
        const p = parseRecord(line);
        assert.ok(p.ok);
        assert.equal(recordToLine(p.sample, p.layout), line);
      }
    });
  });

  it('splits implicit and explicit TRL prompts the same way', () => {
    const a = readRecord(SAMPLES[1][1]);
    const b = readRecord(SAMPLES[2][1]);
    assert.ok(!('error' in a) && !('error' in b));
    assert.deepEqual(
      a.sample.kind === 'preference' && a.sample.prompt,
      b.sample.kind === 'preference' && b.sample.prompt,
    );
    assert.ok(b.sample.kind === 'preference' && b.sample.chosen.length === 1);
  });

  it('keeps unknown roles verbatim', () => {
    const r = readRecord(SAMPLES[8][1]);
    assert.ok(!('error' in r) && r.sample.kind === 'dialogue');
    assert.equal(r.sample.turns[1].role, 'bing');
    assert.deepEqual(r.sample.turns[1].meta, { mark: 1 });
  });

  it('reports the column of a JSON syntax error', () => {
    const bad = '{"a": [1, 2,, 3]}';
    const r = parseRecord(bad);
    assert.ok(!r.ok);
    assert.equal(r.error.column, bad.indexOf(',,') + 2);
    const r2 = parseRecord('{"a": "x}');
    assert.ok(!r2.ok);
    assert.equal(r2.error.column, 7);
    const r3 = parseRecord('{"instructions": 1}');
    assert.ok(!r3.ok);
    assert.match(r3.error.message, /no known dataset format/);
  });

  it('edits an Alpaca instruction and its input separately', () => {
    const r = readRecord(SAMPLES[7][1]);
    assert.ok(!('error' in r) && r.sample.kind === 'dialogue');
    assert.equal(r.sample.turns.length, 6);
    r.sample.turns[4].content = 'Add\n4 and 5';
    r.sample.turns[5].content = '9';
    const v = writeRecord(r.sample, r.layout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(v), ['instruction', 'input', 'output', 'system', 'history', 'source']);
    assert.equal(v.instruction, 'Add');
    assert.equal(v.input, '4 and 5');
    assert.equal(v.output, '9');
  });

  it('writes new records in the format defaults', () => {
    const s: Sample = {
      kind: 'dialogue',
      turns: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a' },
      ],
      meta: {},
    };
    assert.equal(
      recordToLine(s, newLayout('sharegpt')),
      '{"conversations":[{"from":"human","value":"q"},{"from":"gpt","value":"a"}]}',
    );
    assert.equal(recordToLine(s, newLayout('alpaca')), '{"instruction":"q","input":"","output":"a"}');
    assert.equal(
      recordToLine(s, newLayout('llamafactory-v1')),
      '{"messages":[{"role":"user","content":[{"type":"text","value":"q"}]},{"role":"assistant","content":[{"type":"text","value":"a"}]}]}',
    );
    assert.throws(() => writeRecord(s, newLayout('trl-preference')), FormatError);
  });
});

describe('formats: conversion', () => {
  const read = (v: unknown): Sample => {
    const r = readRecord(v);
    assert.ok(!('error' in r));
    return r.sample;
  };

  it('turns OpenAI tool calls and images into ShareGPT with losses reported', () => {
    const { value, losses } = convertSample(read(SAMPLES[0][1]), 'sharegpt');
    const v = value as { system: string; conversations: { from: string; value: string }[]; tools: string };
    assert.equal(v.system, 'Be brief.');
    assert.deepEqual(
      v.conversations.map((m) => m.from),
      ['human', 'function_call', 'observation', 'gpt'],
    );
    assert.deepEqual(JSON.parse(v.conversations[1].value), { name: 'look', arguments: { q: 1 } });
    assert.deepEqual(JSON.parse(v.tools), [{ name: 'look', parameters: { type: 'object' } }]);
    assert.ok(
      losses.some((l) => /turn 2: 1 non-text content part\(s\) \(image_url\)/.test(l)),
      losses.join('\n'),
    );
    assert.ok(losses.some((l) => /weight 1 cannot be represented in sharegpt/.test(l)));
    assert.ok(losses.some((l) => /name 'bot'/.test(l)));
    assert.ok(losses.some((l) => /parallel_tool_calls/.test(l)));
  });

  it('turns ShareGPT function calls into OpenAI tool calls', () => {
    const s = read({
      conversations: [
        { from: 'human', value: 'sum 1 2' },
        { from: 'function_call', value: '{"name": "add", "arguments": {"a": 1, "b": 2}}' },
        { from: 'observation', value: '3' },
        { from: 'gpt', value: '3' },
      ],
      tools: '[{"name": "add"}]',
    });
    const { value, losses } = convertSample(s, 'openai');
    assert.deepEqual(losses, []);
    assert.deepEqual(value, {
      messages: [
        { role: 'user', content: 'sum 1 2' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'add', arguments: '{"a":1,"b":2}' } },
          ],
        },
        { role: 'tool', content: '3', tool_call_id: 'call_1' },
        { role: 'assistant', content: '3' },
      ],
      tools: [{ type: 'function', function: { name: 'add' } }],
    });
    const alp = convertSample(s, 'alpaca');
    assert.ok(alp.losses.some((l) => /turn 2 \(function_call\) cannot be represented in alpaca/.test(l)));
    assert.ok(alp.losses.some((l) => /tool definitions cannot be represented in alpaca/.test(l)));
  });

  it('Alpaca history <-> multi-turn dialogue', () => {
    const s = read(SAMPLES[7][1]);
    const { value } = convertSample(s, 'openai', { keepUnknown: true });
    const back = convertSample(read(value), 'alpaca', { keepUnknown: true });
    assert.deepEqual(back.losses, []);
    assert.deepEqual(back.value, {
      instruction: 'Add\n2 and 3',
      input: '',
      output: '5',
      system: 'You add.',
      history: [
        ['1+1?', '2'],
        ['2+2?', '4'],
      ],
      source: 'x',
    });
  });

  it('MT-Bench: only user turns; system prompts and answers are reported', () => {
    const s = read({ question_id: 81, category: 'writing', turns: ['a', 'b'] });
    const d = convertSample(s, 'sharegpt');
    assert.deepEqual(d.value, {
      conversations: [
        { from: 'human', value: 'a' },
        { from: 'human', value: 'b' },
      ],
    });
    assert.ok(d.losses.some((l) => /question_id, category/.test(l)));
    const back = convertSample(read(SAMPLES[7][1]), 'mt-bench', { index: 12 });
    assert.deepEqual(back.value, { question_id: 12, turns: ['1+1?', '2+2?', 'Add\n2 and 3'] });
    assert.ok(back.losses.some((l) => /system prompt cannot be represented in mt-bench/.test(l)));
    assert.ok(back.losses.some((l) => /3 non-user turn\(s\) dropped/.test(l)));
  });

  it('preference formats convert to each other; a dialogue cannot become a pair', () => {
    const s = read(SAMPLES[1][1]);
    const oa = convertSample(s, 'openai-preference');
    assert.deepEqual(oa.value, {
      input: { messages: [{ role: 'user', content: 'Hi?' }] },
      preferred_output: [{ role: 'assistant', content: 'Hello!' }],
      non_preferred_output: [{ role: 'assistant', content: 'Go away.' }],
    });
    const sg = convertSample(read(oa.value), 'sharegpt-preference');
    assert.deepEqual(sg.value, {
      conversations: [{ from: 'human', value: 'Hi?' }],
      chosen: { from: 'gpt', value: 'Hello!' },
      rejected: { from: 'gpt', value: 'Go away.' },
    });
    const lf = convertSample(read(sg.value), 'llamafactory-v1-preference');
    const trl = convertSample(read(lf.value), 'trl-preference');
    assert.deepEqual(trl.value, {
      prompt: [{ role: 'user', content: [{ type: 'text', text: 'Hi?' }] }],
      chosen: [{ role: 'assistant', content: [{ type: 'text', text: 'Hello!' }] }],
      rejected: [{ role: 'assistant', content: [{ type: 'text', text: 'Go away.' }] }],
    });
    assert.throws(
      () => convertSample(read(SAMPLES[8][1]), 'trl-preference'),
      /a dialogue cannot be converted to trl-preference/,
    );
    const d = convertSample(s, 'sharegpt');
    assert.ok(d.losses.some((l) => /rejected answer/.test(l)));
  });
});
