import type * as vscode from 'vscode';
import { isLocalEndpoint, keyScopeFor, registerSecret } from '../../core/llm';

const PREFIX = 'parrot.apiKey:';
const OPENAI_ORIGIN = 'https://api.openai.com';

export type KeySource = 'secret-storage' | 'environment' | 'none';

/**
 * API keys in VS Code's SecretStorage, one per endpoint origin (`keyScopeFor`): a key saved for
 * one host is never sent to another. `OPENAI_API_KEY` from the environment is used only for
 * https://api.openai.com (the CLI's rule). Keys never go to settings or logs.
 */
export class ApiKeys {
  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  private slot(baseUrl: string): string {
    return PREFIX + keyScopeFor(baseUrl);
  }

  async store(baseUrl: string, key: string): Promise<void> {
    await this.secrets.store(this.slot(baseUrl), key);
  }

  async clear(baseUrl: string): Promise<boolean> {
    const slot = this.slot(baseUrl);
    const had = (await this.secrets.get(slot)) !== undefined;
    await this.secrets.delete(slot);
    return had;
  }

  /** The key to send to `baseUrl`, and where it came from. */
  async resolve(baseUrl: string): Promise<{ key?: string; source: KeySource }> {
    const stored = await this.secrets.get(this.slot(baseUrl));
    if (stored) {
      registerSecret(stored);
      return { key: stored, source: 'secret-storage' };
    }
    if (keyScopeFor(baseUrl) === OPENAI_ORIGIN && this.env.OPENAI_API_KEY)
      return { key: this.env.OPENAI_API_KEY, source: 'environment' };
    return { source: 'none' };
  }

  /** True when `baseUrl` normally needs no key (a loopback server). */
  static optional(baseUrl: string): boolean {
    return isLocalEndpoint(baseUrl);
  }
}
