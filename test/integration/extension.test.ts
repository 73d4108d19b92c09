import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { report } from './support/report';

const EXTENSION_ID = 'parrot-studio.parrot-studio';

interface ConfigurationSection {
  properties?: Record<string, { default?: unknown }>;
}

interface Manifest {
  contributes?: {
    commands?: { command: string }[];
    configuration?: ConfigurationSection | ConfigurationSection[];
  };
}

function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
  return ext;
}

function manifest(): Manifest {
  return extension().packageJSON as Manifest;
}

describe('extension', () => {
  it('activates in the real extension host', async () => {
    const ext = extension();
    await ext.activate();
    assert.equal(ext.isActive, true);
    report(`    host: VS Code ${vscode.version} (${vscode.env.appName}), Node ${process.version}`);
    assert.match(vscode.version, /^\d+\.\d+\.\d+/);
  });

  it('registers every contributed command, and contributes every parrot.* command it registers', async () => {
    await extension().activate();
    const contributed = new Set((manifest().contributes?.commands ?? []).map((c) => c.command));
    assert.ok(contributed.size > 0, 'package.json contributes no command');
    const registered = await vscode.commands.getCommands(true);
    const registeredSet = new Set(registered);
    const missing = [...contributed].filter((c) => !registeredSet.has(c)).sort();
    const undeclared = registered.filter((c) => c.startsWith('parrot.') && !contributed.has(c)).sort();
    assert.deepEqual(missing, [], 'contributed in package.json but not registered');
    assert.deepEqual(undeclared, [], 'registered but not contributed in package.json');
  });

  it('gives every setting its package.json default', () => {
    const config = manifest().contributes?.configuration;
    const sections = Array.isArray(config) ? config : config ? [config] : [];
    const properties = sections.flatMap((s) => Object.entries(s.properties ?? {}));
    assert.ok(properties.length > 0, 'package.json contributes no setting');
    for (const [key, schema] of properties) {
      const inspected = vscode.workspace.getConfiguration().inspect(key);
      assert.ok(inspected, `setting ${key} is unknown to VS Code`);
      assert.deepEqual(inspected.defaultValue, schema.default, `default of ${key}`);
    }
  });

  it('opens the test workspace with the sample datasets', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'no workspace folder is open');
    const files = await vscode.workspace.findFiles('*.jsonl');
    const names = files.map((f) => f.path.split('/').pop()).sort();
    assert.ok(names.includes('mt_bench_questions.jsonl'), `datasets in the workspace: ${names.join(', ')}`);
  });
});
