import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RULES } from '../../src/core/validate';

interface Manifest {
  contributes: { configuration: { properties: Record<string, { properties?: Record<string, unknown> }> } };
}

const root = path.resolve(__dirname, '..', '..', '..');

describe('manifest', () => {
  it('offers a severity setting for every lint rule, and only for those', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Manifest;
    const rules = manifest.contributes.configuration.properties['parrot.validation.rules'];
    assert.deepEqual(Object.keys(rules.properties ?? {}).sort(), Object.keys(RULES).sort());
  });
});
