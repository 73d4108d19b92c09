import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { datasetAttr } from '../../../src/core/formats/datasetInfo';
import { mappingFor } from '../../../src/core/formats/entryMapping';
import { newLayout, parseRecord, recordToLine } from '../../../src/core/formats';
import type { Sample } from '../../../src/core/model';
import { datasetsIn } from '../../support/fixtures';

const DATASETS = datasetsIn(path.resolve(__dirname, '..', '..', '..', '..'));
type Rec = Record<string, unknown>;
type Msg = { from: string; value: string };

function array(name: string): Rec[] {
  return JSON.parse(readFileSync(path.join(DATASETS, 'containers', name), 'utf8')) as Rec[];
}

const ROLE: Record<string, string> = {
  human: 'asker',
  gpt: 'bot',
  function_call: 'call',
  observation: 'result',
};
const renameMsg = (m: Msg): Rec => ({ speaker: ROLE[m.from] ?? m.from, text: m.value });

/** glaive tool calls under renamed columns, message keys and roles (Python's json.dumps style). */
const TOOLS_ENTRY = mappingFor(
  datasetAttr('tools', {
    file_name: 'tools.jsonl',
    formatting: 'sharegpt',
    columns: { messages: 'dialog', tools: 'funcs' },
    tags: {
      role_tag: 'speaker',
      content_tag: 'text',
      user_tag: 'asker',
      assistant_tag: 'bot',
      function_tag: 'call',
      observation_tag: 'result',
    },
  }),
  'dataset_info.json',
);

const ALPACA_ENTRY = mappingFor(
  datasetAttr('qa', {
    file_name: 'qa.jsonl',
    columns: { prompt: 'question', query: 'context', response: 'answer' },
  }),
  'dataset_info.json',
);

const PREF_ENTRY = mappingFor(
  datasetAttr('pref', {
    file_name: 'pref.jsonl',
    formatting: 'sharegpt',
    ranking: true,
    columns: { messages: 'dialog', chosen: 'good', rejected: 'bad' },
    tags: { role_tag: 'speaker', content_tag: 'text', user_tag: 'asker', assistant_tag: 'bot' },
  }),
  'dataset_info.json',
);

/** Python's `json.dumps` separators (", " and ": "). */
function pyDumps(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(pyDumps).join(', ') + ']';
  if (typeof v === 'object' && v !== null)
    return (
      '{' +
      Object.entries(v)
        .map(([k, x]) => JSON.stringify(k) + ': ' + pyDumps(x))
        .join(', ') +
      '}'
    );
  return JSON.stringify(v);
}

function turns(s: Sample): { role: string; text: unknown }[] {
  const list = s.kind === 'dialogue' ? s.turns : [...s.prompt, ...s.chosen, ...s.rejected];
  return list.map((t) => ({ role: t.role, text: t.content }));
}

describe('editing records through their dataset_info.json entry', () => {
  it('a renamed record reads as the canonical one would, and writes back to the same bytes', () => {
    assert.ok(TOOLS_ENTRY);
    for (const r of array('llamafactory_glaive_toolcall_en_demo.json').slice(0, 60)) {
      const canonical = JSON.stringify(r);
      const renamed = pyDumps({ dialog: (r.conversations as Msg[]).map(renameMsg), funcs: r.tools });
      const a = parseRecord(canonical);
      const b = parseRecord(renamed, undefined, { mapping: TOOLS_ENTRY });
      assert.ok(a.ok && b.ok);
      assert.equal(b.layout.format, 'sharegpt');
      assert.deepEqual(b.sample, a.sample);
      assert.equal(recordToLine(b.sample, b.layout), renamed);
      // Without the entry the same record is of no known format.
      assert.equal(parseRecord(renamed).ok, false);
    }
  });

  it("an edit is written in the file's own key names and role tags; the rest of the line keeps its bytes", () => {
    const r = array('llamafactory_glaive_toolcall_en_demo.json')[1];
    const conv = r.conversations as Msg[];
    const renamed = pyDumps({ dialog: conv.map(renameMsg), funcs: r.tools });
    const p = parseRecord(renamed, undefined, { mapping: TOOLS_ENTRY });
    assert.ok(p.ok && p.sample.kind === 'dialogue');
    p.sample.turns[1].content = 'edited answer';
    p.sample.turns.push({ role: 'user', content: 'and then?' }, { role: 'assistant', content: 'done' });
    const out = recordToLine(p.sample, p.layout);
    const edited = [
      ...conv.map(renameMsg),
      { speaker: 'asker', text: 'and then?' },
      { speaker: 'bot', text: 'done' },
    ];
    edited[1] = { ...edited[1], text: 'edited answer' };
    assert.deepEqual(JSON.parse(out), { dialog: edited, funcs: r.tools });
    // Untouched messages keep their bytes (the edit changed only what it changed).
    assert.ok(out.startsWith(renamed.slice(0, renamed.indexOf(JSON.stringify(conv[1].value)))));
    assert.ok(!/"from"|"value"|"human"|"gpt"|"conversations"/.test(out));
  });

  it('alpaca columns renamed (question / context / answer): read, edited and written back under their names', () => {
    assert.ok(ALPACA_ENTRY);
    for (const r of array('llamafactory_alpaca_en_demo.json').slice(0, 50)) {
      const file = { question: r.instruction, context: r.input, answer: r.output, source: 'demo' };
      const line = JSON.stringify(file);
      const p = parseRecord(line, undefined, { mapping: ALPACA_ENTRY });
      assert.ok(p.ok, JSON.stringify(p));
      assert.equal(p.layout.format, 'alpaca');
      assert.equal(recordToLine(p.sample, p.layout), line);
      assert.ok(p.sample.kind === 'dialogue');
      assert.deepEqual(turns(p.sample), turns((parseRecord(JSON.stringify(r)) as { sample: Sample }).sample));
      p.sample.turns[p.sample.turns.length - 1].content = 'new answer';
      assert.deepEqual(JSON.parse(recordToLine(p.sample, p.layout)), { ...file, answer: 'new answer' });
    }
  });

  it('a preference pair with renamed ranking columns (dpo_en_demo) round-trips and edits under its names', () => {
    assert.ok(PREF_ENTRY);
    for (const r of array('llamafactory_dpo_en_demo.json').slice(0, 40)) {
      const file = {
        dialog: (r.conversations as Msg[]).map(renameMsg),
        good: renameMsg(r.chosen as Msg),
        bad: renameMsg(r.rejected as Msg),
      };
      const line = JSON.stringify(file);
      const p = parseRecord(line, undefined, { mapping: PREF_ENTRY });
      assert.ok(p.ok);
      assert.equal(p.layout.format, 'sharegpt-preference');
      assert.equal(recordToLine(p.sample, p.layout), line);
      assert.ok(p.sample.kind === 'preference');
      p.sample.rejected[0].content = 'worse';
      assert.deepEqual(JSON.parse(recordToLine(p.sample, p.layout)), {
        ...file,
        bad: { speaker: 'bot', text: 'worse' },
      });
    }
  });

  it('a key the reading leaves out (a column under a canonical name the entry does not read) is kept on writing, in its place', () => {
    const line = JSON.stringify({ instruction: 'not read', question: 'q', answer: 'a', n: 1 });
    const p = parseRecord(line, undefined, { mapping: ALPACA_ENTRY });
    assert.ok(p.ok && p.sample.kind === 'dialogue');
    assert.equal(p.sample.turns[0].content, 'q');
    p.sample.turns[1].content = 'b';
    assert.equal(recordToLine(p.sample, p.layout), line.replace('"a"', '"b"'));
  });

  it('a message key that the reading would drop makes the record unreadable through the entry, with the key named', () => {
    const line = JSON.stringify({
      dialog: [
        { speaker: 'asker', text: 'q', value: 'old' },
        { speaker: 'bot', text: 'a' },
      ],
    });
    const p = parseRecord(line, undefined, { mapping: TOOLS_ENTRY });
    assert.equal(p.ok, false);
    assert.match(p.ok ? '' : p.error.message, /dialog\[0\]\.value/);
  });

  it('a new record made from scratch under the entry gets its names', () => {
    const line = recordToLine(
      {
        kind: 'dialogue',
        turns: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
        ],
        meta: {},
      },
      newLayout('sharegpt', undefined, TOOLS_ENTRY),
    );
    assert.deepEqual(JSON.parse(line), {
      dialog: [
        { speaker: 'asker', text: 'hi' },
        { speaker: 'bot', text: 'hello' },
      ],
    });
  });
});
