import * as assert from 'node:assert/strict';
import { contentText } from '../../src/core/model';

describe('model', () => {
  it('joins the text of content parts', () => {
    assert.equal(
      contentText([{ type: 'text', text: 'a' }, { type: 'image_url' }, { type: 'text', text: 'b' }]),
      'ab',
    );
    assert.equal(contentText('plain'), 'plain');
  });
});
