// The generation tests' common setup inside the extension host: the loopback OpenAI-compatible
// server from test/support/openai-server.ts, the workspace settings that point the extension at
// it (reset afterwards), and small helpers to write dialogue files and run commands.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseRecord } from '../../../src/core/formats';
import type { Dialogue } from '../../../src/core/model';
import type { ParrotApi } from '../../../src/extension/extension';
import { TestOpenAIServer, type ChatCall } from '../../support/openai-server';

export { sharegpt } from '../../support/dialogues';

export const EXTENSION_ID = 'parrot-studio.parrot-studio';
export const ASKER = 'parrot-ask';
export const ANSWERER = 'gpt-test';

const WORDS = [
  'caching',
  'recursion',
  'indexes',
  'latency',
  'tokens',
  'sharding',
  'closures',
  'generics',
  'streams',
  'locks',
  'queues',
  'vectors',
  'gradients',
  'batches',
  'schemas',
  'buffers',
  'threads',
  'sockets',
  'hashing',
  'parsers',
  'graphs',
  'tensors',
  'replicas',
  'cursors',
];

/** Distinct questions per call (word-bigram similarity stays far below the repeat filter's 0.8). */
export function distinctQuestion(call: ChatCall): string {
  const a = WORDS[(call.seq * 3 + call.choice) % WORDS.length] ?? 'x';
  const b = WORDS[(call.seq * 5 + call.choice * 7 + 1) % WORDS.length] ?? 'y';
  return `Why does ${a} matter for ${b} in that example?`;
}

/** What the generation commands return when called with arguments. */
export interface Result {
  status: string;
  message?: string;
  [key: string]: unknown;
}

export interface Loopback {
  api: ParrotApi;
  server: TestOpenAIServer;
  /** A fresh folder inside the workspace for this suite's files. */
  dir: string;
}

/** Writes `key` at workspace level (`undefined` removes it). */
export async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration().update(key, value, vscode.ConfigurationTarget.Workspace);
}

/**
 * Activates the extension, starts the loopback server (models ASKER and ANSWERER), creates
 * `<workspace>/<folder>` and points `parrot.endpoint.baseUrl` and the asker/answerer models at the
 * server, then writes `settings` in order. Undo with {@link stopLoopback}.
 */
export async function startLoopback(
  responder: (call: ChatCall) => string,
  folder: string,
  settings: Record<string, unknown>,
): Promise<Loopback> {
  const ext = vscode.extensions.getExtension<ParrotApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
  const api = await ext.activate();
  const server = await new TestOpenAIServer({ responder, models: [ASKER, ANSWERER] }).start();
  const workspace = vscode.workspace.workspaceFolders?.[0];
  assert.ok(workspace, 'the integration tests need a workspace folder');
  const dir = path.join(workspace.uri.fsPath, folder);
  fs.mkdirSync(dir, { recursive: true });
  await setSetting('parrot.endpoint.baseUrl', server.baseUrl);
  await setSetting('parrot.models.asker', ASKER);
  await setSetting('parrot.models.answerer', ANSWERER);
  for (const [key, value] of Object.entries(settings)) await setSetting(key, value);
  return { api, server, dir };
}

/** Removes the workspace values of `settings` and stops the server (if it was started). */
export async function stopLoopback(
  server: TestOpenAIServer | undefined,
  settings: readonly string[],
): Promise<void> {
  for (const key of settings) await setSetting(key, undefined);
  await server?.close();
}

/** Writes `lines` to a new uniquely named file in `dir`. */
export function writeLines(dir: string, name: string, lines: string[]): vscode.Uri {
  const p = path.join(dir, `${Date.now()}-${Math.random().toString(36).slice(2, 7)}-${name}`);
  fs.writeFileSync(p, lines.join('\n') + '\n');
  return vscode.Uri.file(p);
}

/** Parses `line`, which must be a dialogue record. */
export function dialogue(line: string): Dialogue {
  const p = parseRecord(line);
  assert.ok(p.ok, `not a record: ${line.slice(0, 80)}`);
  assert.equal(p.sample.kind, 'dialogue');
  return p.sample;
}

/** Runs a generation command, which must return a result. */
export async function run(command: string, args: object): Promise<Result> {
  const r = await vscode.commands.executeCommand<Result>(command, args);
  assert.ok(r, `${command} returned nothing`);
  return r;
}
