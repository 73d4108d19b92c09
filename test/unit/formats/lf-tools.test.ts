import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { convertSample, parseRecord, recordToLine } from '../../../src/core/formats';
import { validateText } from '../../../src/core/validate';
import { datasetsIn } from '../../support/fixtures';

const DIR = path.join(datasetsIn(path.resolve(__dirname, '..', '..', '..', '..')), 'llamafactory-data');
const FILE = path.join(DIR, 'reason_tool_use_demo_50.jsonl');
const text = readFileSync(FILE, 'utf8');
const lines = text.split('\n').filter((l) => l !== '');

interface V1Part {
  type: string;
  value: string;
}
interface V1Message {
  role: string;
  content: V1Part[];
}

describe('formats: LLaMA-Factory v1 tool calls (reason_tool_use_demo)', () => {
  it('reports no role/alternation warning: a tool_call part makes the assistant turn a tool call', () => {
    const alternation = validateText(text).filter((d) => d.code === 'role/alternation');
    assert.deepEqual(alternation, []);
  });

  it('still reports a tool result that follows a plain assistant answer', () => {
    const r = JSON.parse(lines.find((l) => l.includes('"tool_call"')) as string) as { messages: V1Message[] };
    const i = r.messages.findIndex((m) => m.content.some((p) => p.type === 'tool_call'));
    r.messages[i].content = r.messages[i].content.filter((p) => p.type !== 'tool_call');
    const d = validateText(JSON.stringify(r)).filter((x) => x.code === 'role/alternation');
    assert.equal(d.length, 1);
    assert.match(d[0].message, new RegExp(`turn ${i + 2}: "tool" where a user turn was expected`));
  });

  it('round-trips every record byte for byte', () => {
    for (const line of lines) {
      const r = parseRecord(line);
      assert.ok(r.ok);
      assert.equal(recordToLine(r.sample, r.layout), line);
    }
  });

  it('converts to OpenAI: tool_call parts become tool_calls, tool results carry their call id, nothing is lost but reasoning', () => {
    let calls = 0;
    for (const line of lines) {
      const r = parseRecord(line);
      assert.ok(r.ok);
      const src = JSON.parse(line) as { messages: V1Message[] };
      const c = convertSample(r.sample, 'openai');
      assert.ok(
        c.losses.every((l) => /reasoning|have no tool result of their own/.test(l)),
        c.losses.join('\n'),
      );
      const out = c.value as { messages: Record<string, unknown>[] };
      assert.equal(out.messages.length, src.messages.length);
      src.messages.forEach((m, i) => {
        const o = out.messages[i];
        const tc = m.content.filter((p) => p.type === 'tool_call');
        if (tc.length) {
          const got = o.tool_calls as {
            id: string;
            type: string;
            function: { name: string; arguments: string };
          }[];
          assert.equal(got.length, tc.length);
          tc.forEach((p, k) => {
            const want = JSON.parse(p.value) as { name: string; arguments: unknown };
            assert.equal(got[k].type, 'function');
            assert.equal(got[k].function.name, want.name);
            assert.deepEqual(JSON.parse(got[k].function.arguments), want.arguments);
          });
          calls += tc.length;
          const next = out.messages[i + 1];
          if (next?.role === 'tool')
            assert.equal(
              next.tool_call_id,
              got[0].id,
              JSON.stringify(out.messages.slice(i, i + 2)).slice(0, 3000),
            );
        }
        const texts = m.content
          .filter((p) => p.type === 'text')
          .map((p) => p.value)
          .join('');
        const oc = o.content;
        const otext =
          typeof oc === 'string'
            ? oc
            : Array.isArray(oc)
              ? (oc as { text?: string }[]).map((p) => p.text ?? '').join('')
              : '';
        assert.equal(otext, texts);
      });
    }
    assert.equal(calls, 68);
  });

  it('converts to ShareGPT: a tool call becomes a function_call turn, a tool result an observation', () => {
    const line = lines.find((l) => l.includes('"tool_call"')) as string;
    const r = parseRecord(line);
    assert.ok(r.ok);
    const c = convertSample(r.sample, 'sharegpt');
    const conv = (c.value as { conversations: { from: string; value: string }[] }).conversations;
    const src = JSON.parse(line) as { messages: V1Message[] };
    const callPart = src.messages.flatMap((m) => m.content).find((p) => p.type === 'tool_call') as V1Part;
    const fc = conv.find((t) => t.from === 'function_call');
    assert.ok(fc);
    assert.deepEqual(JSON.parse(fc.value), JSON.parse(callPart.value));
    assert.ok(conv.some((t) => t.from === 'observation'));
    assert.ok(
      c.losses.every((l) => /\(reasoning\)/.test(l)),
      c.losses.join('\n'),
    );
  });

  it('converts OpenAI tool_calls back into v1 tool_call parts', () => {
    const line = lines.find((l) => l.includes('"tool_call"')) as string;
    const r = parseRecord(line);
    assert.ok(r.ok);
    const oa = convertSample(r.sample, 'openai');
    const back = parseRecord(JSON.stringify(oa.value));
    assert.ok(back.ok);
    const v1 = convertSample(back.sample, 'llamafactory-v1');
    assert.ok(!v1.losses.some((l) => /tool/.test(l)), v1.losses.join('\n'));
    const msgs = (v1.value as { messages: V1Message[] }).messages;
    const src = (JSON.parse(line) as { messages: V1Message[] }).messages;
    const calls = (ms: V1Message[]): unknown[] =>
      ms.flatMap((m) =>
        m.content.filter((p) => p.type === 'tool_call').map((p) => JSON.parse(p.value) as unknown),
      );
    assert.deepEqual(calls(msgs), calls(src));
    assert.deepEqual(
      msgs.map((m) => m.role),
      src.map((m) => m.role),
    );
  });
});
