import * as assert from 'node:assert/strict';
import { parseWebviewMessage } from '../../../src/protocol';

describe('review: webview messages are checked at runtime', () => {
  it('accepts well-formed review messages and keeps only their known fields', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'reviewSet', line: 3, status: 'accepted', extra: 1 }), {
      type: 'reviewSet',
      line: 3,
      status: 'accepted',
    });
    assert.deepEqual(
      parseWebviewMessage({ type: 'reviewSet', line: 0, turn: 2, status: 'needs-work', note: 'why?' }),
      { type: 'reviewSet', line: 0, turn: 2, status: 'needs-work', note: 'why?' },
    );
    assert.deepEqual(parseWebviewMessage({ type: 'reviewNext', after: -1, generated: true }), {
      type: 'reviewNext',
      after: -1,
      generated: true,
    });
    assert.deepEqual(
      parseWebviewMessage({ type: 'query', id: 1, query: { review: 'rejected', generated: true } }),
      {
        type: 'query',
        id: 1,
        query: { review: 'rejected', generated: true },
      },
    );
  });

  it('refuses bad statuses, indexes, notes and filters', () => {
    for (const m of [
      { type: 'reviewSet', line: 0, status: 'great' },
      { type: 'reviewSet', line: -1, status: 'accepted' },
      { type: 'reviewSet', line: 0.5, status: 'accepted' },
      { type: 'reviewSet', line: 0, turn: -2, status: 'accepted' },
      { type: 'reviewSet', line: 0, status: 'accepted', note: 5 },
      { type: 'reviewSet', line: 0, status: 'accepted', note: 'x'.repeat(10_001) },
      { type: 'reviewNext', after: -2 },
      { type: 'reviewNext', after: 0, generated: 'yes' },
      { type: 'query', id: 1, query: { review: 'maybe' } },
      { type: 'query', id: 1, query: { generated: 1 } },
    ])
      assert.equal(parseWebviewMessage(m), undefined, JSON.stringify(m).slice(0, 80));
  });

  it('keeps the "generated only" flag of a turn decision, and checks the mask request', () => {
    assert.deepEqual(
      parseWebviewMessage({ type: 'reviewSet', line: 1, turn: 3, status: 'rejected', generated: true }),
      { type: 'reviewSet', line: 1, turn: 3, status: 'rejected', generated: true },
    );
    assert.equal(
      parseWebviewMessage({ type: 'reviewSet', line: 1, status: 'rejected', generated: 'yes' }),
      undefined,
    );
    assert.deepEqual(parseWebviewMessage({ type: 'maskRequest', line: 4, policy: 'asker', extra: 1 }), {
      type: 'maskRequest',
      line: 4,
      policy: 'asker',
    });
    for (const bad of [
      { type: 'maskRequest', line: -1, policy: 'assistant' },
      { type: 'maskRequest', line: 1.5, policy: 'assistant' },
      { type: 'maskRequest', line: 0, policy: 'everything' },
      { type: 'maskRequest', line: 0 },
    ])
      assert.equal(parseWebviewMessage(bad), undefined, JSON.stringify(bad));
  });
});
