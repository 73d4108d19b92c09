import { once } from 'node:events';

/**
 * Output collected in memory and written in pieces of about `limit` bytes (1 MiB), so that a run
 * over millions of records makes a few hundred writes instead of one per record. `write` returns a
 * promise only when it wrote (wait for it: it waits for 'drain' when the sink asks); `flush` writes
 * what is left. Strings are measured in UTF-16 units, a close enough estimate of their bytes.
 */
export class BatchedSink {
  private parts: string[] = [];
  private size = 0;

  constructor(
    private readonly sink: NodeJS.WritableStream,
    private readonly limit = 1 << 20,
  ) {}

  write(chunk: string | Buffer): Promise<void> | undefined {
    if (typeof chunk !== 'string') return this.flush().then(() => this.put(chunk));
    this.parts.push(chunk);
    this.size += chunk.length;
    return this.size >= this.limit ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.length === 1 ? this.parts[0] : this.parts.join('');
    this.parts = [];
    this.size = 0;
    await this.put(text);
  }

  private async put(chunk: string | Buffer): Promise<void> {
    if (!this.sink.write(chunk)) await once(this.sink, 'drain');
  }
}
