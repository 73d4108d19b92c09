import * as assert from 'node:assert/strict';
import { findSyntaxError, locate } from '../../../src/core/validate';

/** The text a span covers. */
function at(text: string, pointer: string, target: 'value' | 'key' = 'value'): string {
  const s = locate(text, pointer, target);
  return text.slice(s.start, s.end);
}

describe('validate/locate', () => {
  const line =
    '{"id":"a\\"b","conversations":[{"from":"human","value":"héllo 😀 wörld"},{"from":"gpt","value":["x",{"k":[1,2.5e3,null]}]}]}';

  it('maps nested pointers to the exact value span', () => {
    assert.equal(at(line, '/id'), '"a\\"b"');
    assert.equal(at(line, '/conversations/0/value'), '"héllo 😀 wörld"');
    assert.equal(at(line, '/conversations/1/value/1/k/1'), '2.5e3');
    assert.equal(at(line, '/conversations/1/value/1/k/2'), 'null');
    assert.equal(at(line, '/conversations/1'), '{"from":"gpt","value":["x",{"k":[1,2.5e3,null]}]}');
    assert.equal(at(line, ''), line);
  });

  it('counts columns in UTF-16 code units after surrogate pairs', () => {
    const t = '{"a":"😀😀","b":1}';
    const s = locate(t, '/b');
    // '{"a":"' = 6, two emoji = 4 units, '","b":' = 6
    assert.deepEqual(s, { start: 16, end: 17 });
  });

  it('finds keys written with escapes, and the last of duplicate keys', () => {
    const t = '{"r\\u00f4le":"x", "a/b":{"c~d":true}, "k":1, "k":[2]}';
    assert.equal(at(t, '/rôle'), '"x"');
    assert.equal(at(t, '/a~1b/c~0d'), 'true');
    assert.equal(at(t, '/k'), '[2]');
    assert.equal(at(t, '/rôle', 'key'), '"r\\u00f4le"');
    assert.equal(at(t, '/a~1b/c~0d', 'key'), '"c~d"');
  });

  it('stops at the deepest existing value when the pointer goes further', () => {
    const t = '{"a":{"b":1}}';
    assert.equal(at(t, '/a/zz'), '{"b":1}');
    assert.equal(at(t, '/a/b/c'), '1');
  });

  it('is not confused by whitespace and strings containing brackets', () => {
    const t = ' { "x" : [ "]}," , { "y" :  "{[" } ] } ';
    assert.equal(at(t, '/x/1/y'), '"{["');
    assert.equal(at(t, '/x/0'), '"]},"');
  });
});

describe('validate/findSyntaxError', () => {
  const cases: [string, string, number, RegExp][] = [
    ['missing comma in object', '{"a":1 "b":2}', 7, /expected ',' or '}' after property value/],
    ['missing comma in array', '[1 2]', 3, /expected ',' or '\]' after array element/],
    ['unterminated string', '{"a":"abc', 5, /unterminated string/],
    ['unterminated string ending in backslash', '{"a":"abc\\', 5, /unterminated string/],
    ['trailing comma in object', '{"a":1,}', 7, /trailing commas/],
    ['trailing comma in array', '[1,2,]', 5, /trailing commas/],
    ['single quotes', "{'a':1}", 1, /property name in double quotes/],
    ['single-quoted value', '{"a":\'x\'}', 5, /double quotes/],
    ['missing colon', '{"a" 1}', 5, /expected ':'/],
    ['bad escape', '{"a":"x\\qy"}', 7, /invalid escape sequence '\\q'/],
    ['bad unicode escape', '{"a":"\\u12G4"}', 6, /4 hex digits/],
    ['raw control character', '{"a":"x\ty"}', 7, /control character U\+0009/],
    ['leading zero', '[01]', 2, /leading zeros/],
    ['bare minus', '[-]', 2, /digit after '-'/],
    ['dot without digits', '[1.]', 3, /digit after '\.'/],
    ['empty exponent', '[1e+]', 4, /exponent/],
    ['bad literal', '[tru]', 4, /expected 'true'/],
    ['NaN', '{"a":NaN}', 5, /expected a JSON value, found 'N'/],
    ['truncated object', '{"a":1', 6, /unexpected end of line: expected ',' or '}'/],
    ['truncated array', '[1,', 3, /unexpected end of line: expected a JSON value/],
    ['garbage after value', '{"a":1} x', 8, /after the end of the JSON value/],
    ['two records on one line', '{"a":1}{"b":2}', 7, /after the end of the JSON value/],
    ['unexpected closing', '{"a":]}', 5, /found '\]'/],
  ];
  for (const [name, text, col, re] of cases) {
    it(`${name}: column ${col}`, () => {
      assert.throws(() => JSON.parse(text) as unknown);
      const p = findSyntaxError(text);
      assert.ok(p, 'expected a syntax error');
      assert.equal(p.start, col, `${p.message} at ${p.start}`);
      assert.match(p.message, re);
    });
  }

  it('columns after emoji count UTF-16 units', () => {
    const p = findSyntaxError('{"😀":1 2}');
    assert.equal(p?.start, 8);
  });

  it('survives pathological nesting without crashing', () => {
    const deep = '['.repeat(200000);
    const p = findSyntaxError(deep);
    assert.ok(p);
    assert.equal(p.start, 0);
    const ok = '['.repeat(100000) + ']'.repeat(100000);
    JSON.parse(ok);
    // Too deep to scan: falls back to a span that still lies within the line.
    const span = locate(ok, '/0/0');
    assert.ok(span.start >= 0 && span.start < span.end && span.end <= ok.length);
  });

  it('accepts what JSON.parse accepts', () => {
    for (const t of [
      '{}',
      '[]',
      ' {"a":[1,-0.5e-3,true,false,null,"\\u00e9\\n\\"",{}]} ',
      '"x"',
      '0',
      '{"😀":"\\ud83d\\ude00"}',
    ]) {
      JSON.parse(t);
      assert.equal(findSyntaxError(t), undefined, t);
    }
  });
});
