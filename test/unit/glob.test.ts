import * as assert from 'node:assert/strict';
import { matchesGlob } from '../../src/core/glob';

describe('glob', () => {
  it('matches file names in any folder when the glob has no slash', () => {
    assert.ok(matchesGlob('data/train.jsonl', '*.jsonl'));
    assert.ok(matchesGlob('train.jsonl', '*.jsonl'));
    assert.ok(!matchesGlob('data/train.json', '*.jsonl'));
  });
  it('handles ** , ? and alternatives', () => {
    assert.ok(matchesGlob('a/b/c/dpo.jsonl', '**/dpo.jsonl'));
    assert.ok(matchesGlob('dpo.jsonl', '**/dpo.jsonl'));
    assert.ok(matchesGlob('sets/x1.jsonl', 'sets/x?.jsonl'));
    assert.ok(!matchesGlob('sets/x12.jsonl', 'sets/x?.jsonl'));
    assert.ok(matchesGlob('sets/a.jsonl', 'sets/{a,b}.jsonl'));
    assert.ok(!matchesGlob('sets/c.jsonl', 'sets/{a,b}.jsonl'));
    assert.ok(!matchesGlob('other/sets/a.jsonl', 'sets/*.jsonl'));
    assert.ok(matchesGlob('a.b+c.jsonl', 'a.b+c.jsonl'));
    assert.ok(!matchesGlob('aXb+c.jsonl', 'a.b+c.jsonl'));
  });
});
