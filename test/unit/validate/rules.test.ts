import * as assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateText, RecordValidator, type Diagnostic, type RuleCode } from '../../../src/core/validate';

const j = (v: unknown): string => JSON.stringify(v);
const sg = (...turns: [string, string][]): Record<string, unknown> => ({
  conversations: turns.map(([from, value]) => ({ from, value })),
});
const oa = (...msgs: [string, unknown][]): Record<string, unknown> => ({
  messages: msgs.map(([role, content]) => ({ role, content })),
});

function codes(ds: Diagnostic[], code: string): Diagnostic[] {
  return ds.filter((d) => d.code === code);
}

/** The text a diagnostic marks on its line. */
function marked(text: string, d: Diagnostic): string {
  return text.split('\n')[d.line].slice(d.startCol, d.endCol);
}

/** Asserts the rule fires once on `text` at `expectLine` marking `expectText`, and not when turned off. */
function fires(
  code: RuleCode,
  text: string,
  expectLine: number,
  expectText?: string,
  severity = 'warning',
): Diagnostic {
  const all = validateText(text);
  const hits = codes(all, code);
  assert.equal(hits.length, 1, `${code}: ${JSON.stringify(all, null, 1)}`);
  assert.equal(hits[0].line, expectLine);
  assert.equal(hits[0].severity, severity);
  if (expectText !== undefined) assert.equal(marked(text, hits[0]), expectText);
  const off = validateText(text, { rules: { [code]: 'off' } });
  assert.equal(codes(off, code).length, 0, `${code} still fires when off`);
  const asError = validateText(text, { rules: { [code]: 'error' } });
  assert.ok(codes(asError, code).every((d) => d.severity === 'error'));
  return hits[0];
}

describe('validate/rules', () => {
  const good = j(sg(['human', 'hi'], ['gpt', 'hello']));

  it('a clean file has no diagnostics', () => {
    assert.deepEqual(validateText(`${good}\n${j(sg(['human', 'a'], ['gpt', 'b']))}\n`), []);
  });

  it('json/syntax: exact column, 0-based internally', () => {
    const d = fires('json/syntax', `${good}\n{"conversations": [}\n`, 1, '}', 'error');
    assert.equal(d.startCol, 19);
    assert.match(d.message, /expected a JSON value, found '}'/);
  });

  it('json/syntax after a BOM on line 1 counts columns without the BOM', () => {
    const [d] = validateText('\uFEFF{"a" 1}\n');
    assert.equal(d.code, 'json/syntax');
    assert.equal(d.startCol, 5);
    assert.deepEqual(validateText(`\uFEFF${good}\r\n${good.replace('hi', 'hey')}\r\n`), []);
  });

  it('json/duplicate-key: a key twice in one object, at the repeated key, nested ones too', () => {
    const top =
      '{"id": "a", "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "x"}], "id": "b"}';
    const d = fires('json/duplicate-key', `${good}\n${top}\n`, 1, '"id"');
    assert.ok(d.startCol > 80, 'the second occurrence is marked');
    assert.match(d.message, /duplicate key "id" \(first at column 2\)/);
    const nested =
      '{"conversations": [{"from": "human", "value": "hi", "value": "again"}, {"from": "gpt", "value": "x"}]}';
    fires('json/duplicate-key', `${nested}\n`, 0, '"value"');
    // The same key in two different objects is no duplicate; neither is an escaped spelling of another key.
    const fine =
      '{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "x"}], "meta": {"from": 1, "fro\\u006d2": 2}}';
    assert.equal(codes(validateText(`${fine}\n`), 'json/duplicate-key').length, 0);
    // Escapes are compared as the keys they spell: "a" and "\u0061" are the same key.
    const escaped =
      '{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "x"}], "a": 1, "\\u0061": 2}';
    fires('json/duplicate-key', `${escaped}\n`, 0, '"\\u0061"');
  });

  it('json/too-deep: valid JSON nested deeper than Python json reads is an error, at the bracket', () => {
    const deep = (n: number) =>
      `{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "x"}], "deep": ${'['.repeat(n)}${']'.repeat(n)}}`;
    const d = fires('json/too-deep', `${good}\n${deep(100_000)}\n`, 1, '[', 'error');
    assert.ok(d.startCol > 80);
    assert.equal(codes(validateText(`${deep(800)}\n`), 'json/too-deep').length, 0, '800 levels are fine');
  });

  it('json/blank-line', () => {
    fires('json/blank-line', `${good}\n   \n${j(sg(['human', 'x'], ['gpt', 'y']))}\n`, 1);
  });

  it('json/not-object', () => {
    fires('json/not-object', `${good}\n[1, 2]\n`, 1, '[1, 2]', 'error');
  });

  it('format/unknown', () => {
    fires('format/unknown', `${good}\n{"foo": 1}\n`, 1, '{"foo": 1}', 'error');
  });

  it('schema errors point at the offending value with readable messages', () => {
    const text = `${good}\n{"conversations":[{"from":"human","value":"q"},{"from":"gpt","value":42}]}\n`;
    const ds = validateText(text);
    assert.equal(ds.length, 1, JSON.stringify(ds));
    assert.equal(ds[0].code, 'schema/type');
    assert.equal(ds[0].message, 'turn 2: "value" must be a string');
    assert.equal(marked(text, ds[0]), '42');
    assert.deepEqual(validateText(text, { rules: { schema: 'off' } }), []);
  });

  it('schema: anyOf content says what it may be; deep errors win when the type matches a branch', () => {
    const a = j(oa(['user', 'q'], ['assistant', 7]));
    const [d] = codes(validateText(a), 'schema/anyOf');
    assert.equal(d.message, 'turn 2: "content" must be a string or a list of parts or null');
    assert.equal(marked(a, d), '7');
    const b = j(oa(['user', [{ type: 'text' }]], ['assistant', 'x']));
    const ds = validateText(b).filter((x) => x.code.startsWith('schema/'));
    assert.equal(ds.length, 1, JSON.stringify(ds));
    assert.equal(ds[0].message, 'turn 1, part 1: missing required property "text"');
    assert.equal(marked(b, ds[0]), '{"type":"text"}');
  });

  it('schema/required marks the containing object', () => {
    const text = j({ conversations: [{ from: 'human' }, { from: 'gpt', value: 'a' }] });
    const [d] = codes(validateText(text), 'schema/required');
    assert.equal(d.message, 'turn 1: missing required property "value"');
    assert.equal(marked(text, d), '{"from":"human"}');
  });

  it('a custom schema replaces the built-in one; additionalProperties marks the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-schema-'));
    const schemaPath = join(dir, 's.json');
    writeFileSync(
      schemaPath,
      j({ type: 'object', properties: { conversations: { type: 'array' } }, additionalProperties: false }),
    );
    const text = j({ conversations: [], extra: 1 });
    const ds = validateText(text, { schemaPath });
    const [d] = codes(ds, 'schema/additionalProperties');
    assert.equal(d.message, 'unknown property "extra"');
    assert.equal(marked(text, d), '"extra"');
  });

  it('role/unknown', () => {
    const t = j(sg(['human', 'a'], ['robot', 'b']));
    const d = fires('role/unknown', t, 0, '"robot"');
    assert.match(d.message, /turn 2: unknown role "robot"/);
  });

  it('role/invalid: a role the OpenAI API rejects is an error in the OpenAI formats only', () => {
    const t = j(oa(['user', 'a'], ['gpt', 'b']));
    const d = fires('role/invalid', t, 0, '"gpt"', 'error');
    assert.match(d.message, /turn 2: role "gpt" is rejected by the OpenAI API/);
    assert.equal(codes(validateText(t), 'role/unknown').length, 0);
    const pref = j({
      input: { messages: [{ role: 'human', content: 'q' }] },
      preferred_output: [{ role: 'assistant', content: 'a' }],
      non_preferred_output: [{ role: 'assistant', content: 'b' }],
    });
    fires('role/invalid', pref, 0, '"human"', 'error');
    // ShareGPT names its speakers freely: "gpt" is its own, "robot" only a warning.
    assert.equal(codes(validateText(j(sg(['human', 'a'], ['robot', 'b']))), 'role/invalid').length, 0);
  });

  it('role/system-not-first', () => {
    fires(
      'role/system-not-first',
      j(oa(['user', 'a'], ['system', 'be nice'], ['assistant', 'b'])),
      0,
      '"system"',
    );
  });

  it('role/alternation, allowing function_call/observation and tool sequences', () => {
    fires('role/alternation', j(sg(['human', 'a'], ['human', 'b'], ['gpt', 'c'])), 0);
    const tools = j(
      sg(
        ['human', 'a'],
        ['function_call', '{}'],
        ['observation', '{}'],
        ['function_call', '{}'],
        ['observation', '{}'],
        ['gpt', 'b'],
      ),
    );
    assert.deepEqual(validateText(tools), []);
    const openaiTools = j({
      messages: [
        { role: 'system', content: 's' },
        { role: 'user', content: 'a' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: '1' },
        { role: 'assistant', content: 'b' },
      ],
    });
    assert.deepEqual(validateText(openaiTools), []);
  });

  it('content/empty', () => {
    const t = j(sg(['human', 'a'], ['gpt', ' \n\t ']));
    fires('content/empty', t, 0, '" \\n\\t "');
    fires('content/empty', j({ instruction: '', input: '', output: 'x' }), 0, '""');
  });

  it('dialogue/last-not-assistant', () => {
    fires('dialogue/last-not-assistant', j(sg(['human', 'a'], ['gpt', 'b'], ['human', 'c'])), 0, '"human"');
  });

  it('preference/identical', () => {
    const t = j({
      conversations: [{ from: 'human', value: 'q' }],
      chosen: { from: 'gpt', value: 'same  answer' },
      rejected: { from: 'gpt', value: 'same answer ' },
    });
    fires('preference/identical', t, 0, '{"from":"gpt","value":"same answer "}');
  });

  it('preference/not-assistant', () => {
    const t = j({
      prompt: [{ role: 'user', content: 'q' }],
      chosen: [{ role: 'assistant', content: 'a' }],
      rejected: [{ role: 'user', content: 'b' }],
    });
    fires('preference/not-assistant', t, 0, '"user"', 'error');
  });

  it('content/type-drift is reported once, at the first deviating record, with where the other type was seen', () => {
    const s = j(oa(['user', 'a'], ['assistant', 'b']));
    const l = j(oa(['user', [{ type: 'text', text: 'c' }]], ['assistant', 'd']));
    const text = [s, s.replace('"a"', '"a2"'), l, l.replace('"c"', '"c2"')].join('\n');
    const d = fires('content/type-drift', text, 2, '[{"type":"text","text":"c"}]');
    assert.match(d.message, /a list of parts here but a string on line 1/);
  });

  it('duplicate/id marks the id of the later record', () => {
    const a = j({ id: 'x1', ...sg(['human', 'a'], ['gpt', 'b']) });
    const b = j({ id: 'x1', ...sg(['human', 'c'], ['gpt', 'd']) });
    const d = fires('duplicate/id', `${a}\n${b}\n`, 1, '"x1"');
    assert.match(d.message, /line 1/);
  });

  it('duplicate/dialogue ignores whitespace differences and ids', () => {
    const a = j({ id: 1, ...sg(['human', 'What  is it?'], ['gpt', 'A thing.']) });
    const b = j({ id: 2, ...sg(['human', ' What is it?'], ['gpt', 'A thing.\n']) });
    const c = j({ id: 3, ...sg(['human', 'What is it?'], ['gpt', 'Another thing.']) });
    const d = fires('duplicate/dialogue', [a, c, b].join('\n'), 2, b);
    assert.match(d.message, /line 1/);
  });

  it('format/mixed reports the minority records', () => {
    const alp = j({ instruction: 'i', output: 'o' });
    const text = [good, j(sg(['human', 'x'], ['gpt', 'y'])), alp, j(sg(['human', 'z'], ['gpt', 'w']))].join(
      '\n',
    );
    const d = fires('format/mixed', text, 2, alp);
    assert.match(d.message, /alpaca.*sharegpt/);
    assert.equal(codes(validateText(text, { format: 'sharegpt' }), 'format/mixed').length, 0);
  });

  it('RecordValidator: per-record in validateLine, cross-record in finish; maxDiagnostics caps', () => {
    const v = new RecordValidator({});
    assert.deepEqual(v.validateLine(good, 0), []);
    assert.deepEqual(v.validateLine(good, 1), []);
    const fin = v.finish();
    assert.equal(fin.length, 1);
    assert.equal(fin[0].code, 'duplicate/dialogue');
    const many = Array.from({ length: 10 }, () => '{').join('\n');
    assert.equal(validateText(many).length, 10);
    assert.equal(validateText(many, { maxDiagnostics: 3 }).length, 3);
  });
});
