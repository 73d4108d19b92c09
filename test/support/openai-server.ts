/**
 * A real HTTP server on 127.0.0.1 (random port) that speaks enough of the OpenAI API for the
 * unit, integration and benchmark code: chat completions (JSON, `n` > 1, SSE streaming),
 * models, files (multipart upload + content) and batches (executed against its own chat handler).
 * It records every request and the highest number of requests in flight, and can inject faults.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body, or undefined when the body was not JSON. */
  body: unknown;
  /** Milliseconds since the epoch when the request arrived. */
  at: number;
}

export interface ChatBody {
  model: string;
  messages: { role: string; content: unknown }[];
  n?: number;
  stream?: boolean;
  temperature?: number;
  max_tokens?: number;
  [k: string]: unknown;
}

export interface ChatCall {
  body: ChatBody;
  /** Index of the choice being produced (0..n-1). */
  choice: number;
  /** 0-based count of chat requests received so far (this one included). */
  seq: number;
  /** Set when the call comes from a batch file line. */
  customId?: string;
}

export type Responder = (call: ChatCall) => string | Promise<string>;

export type Fault =
  | { type: 'status'; status: number; message?: string; code?: string; headers?: Record<string, string> }
  | { type: 'latency'; ms: number }
  | { type: 'cut'; afterChunks: number }
  | { type: 'malformed' }
  | { type: 'hang' }
  | { type: 'ignore-n' }
  /** The connection is dropped before any answer (ECONNRESET / UND_ERR_SOCKET at the client). */
  | { type: 'reset' }
  /** Answers with a redirect to `location` (absolute URL). */
  | { type: 'redirect'; status: number; location: string };

export interface ServerOptions {
  responder?: Responder;
  /** Added before every chat answer. */
  latencyMs?: number;
  /** Delay between stream chunks. */
  chunkDelayMs?: number;
  /** Characters per stream chunk. */
  chunkChars?: number;
  models?: string[];
  /**
   * Serves `POST /v1/moderations`: the categories an input is flagged for (none or undefined: not
   * flagged). Without it the route answers 404, like servers that have no moderation endpoint.
   */
  moderation?: (input: string) => string[] | undefined;
  /** When set, requests must carry `Authorization: Bearer <key>` (else 401). */
  requireKey?: string;
  /** Server that ignores `n` (always one choice), like some local servers. */
  ignoreN?: boolean;
  /** Time between batch status transitions. */
  batchStepMs?: number;
  /** Keep every request in `requests` (default true; a long benchmark turns it off). */
  recordRequests?: boolean;
  /** Fault for a batch line, by custom_id. */
  batchFault?: (customId: string) => Fault | undefined;
}

interface StoredFile {
  id: string;
  filename: string;
  purpose: string;
  content: Buffer;
  created_at: number;
}

interface StoredBatch {
  id: string;
  object: 'batch';
  endpoint: string;
  input_file_id: string;
  completion_window: string;
  status: 'validating' | 'in_progress' | 'finalizing' | 'completed' | 'failed' | 'cancelling' | 'cancelled';
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
  errors: { data: { code: string; message: string; line?: number }[] } | null;
}

export class TestOpenAIServer {
  readonly requests: RecordedRequest[] = [];
  readonly files = new Map<string, StoredFile>();
  readonly batches = new Map<string, StoredBatch>();
  /** Every request line a batch executed (its custom_id and body as uploaded), in order. */
  readonly batchRequests: { batch: string; customId: string; body: ChatBody }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  chatSeq = 0;
  /** Requests received (counted even when not recorded). */
  received = 0;
  private readonly faults: { fault: Fault; left: number }[] = [];
  private readonly server: http.Server;
  private readonly sockets = new Set<import('node:net').Socket>();
  private nextId = 1;
  private port = 0;

  constructor(public options: ServerOptions = {}) {
    this.server = http.createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Base URL for clients, with the `/v1` prefix. */
  get baseUrl(): string {
    return `${this.origin}/v1`;
  }

  /** Chat requests only (JSON or streaming), in arrival order. */
  get chatRequests(): (RecordedRequest & { body: ChatBody })[] {
    return this.requests.filter((r) => r.path === '/v1/chat/completions') as (RecordedRequest & {
      body: ChatBody;
    })[];
  }

  /** Applies `fault` to the next `times` chat requests. */
  inject(fault: Fault, times = 1): void {
    this.faults.push({ fault, left: times });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  reset(): void {
    this.requests.length = 0;
    this.received = 0;
    this.maxInFlight = 0;
    this.chatSeq = 0;
    this.batchRequests.length = 0;
    this.clearFaults();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private takeFault(): Fault | undefined {
    const f = this.faults[0];
    if (!f) return undefined;
    if (--f.left <= 0) this.faults.shift();
    return f.fault;
  }

  private id(prefix: string): string {
    return `${prefix}-${this.nextId++}`;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let done = false;
    const finish = (): void => {
      if (!done) {
        done = true;
        this.inFlight--;
      }
    };
    res.on('close', finish);
    try {
      const raw = await readBody(req);
      const url = new URL(req.url ?? '/', this.origin);
      const path = url.pathname;
      const ctype = String(req.headers['content-type'] ?? '');
      let body: unknown;
      if (ctype.includes('application/json') && raw.length) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          return sendJson(res, 400, {
            error: { message: 'body is not JSON', type: 'invalid_request_error' },
          });
        }
      }
      this.received++;
      if (this.options.recordRequests !== false)
        this.requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body, at: Date.now() });
      if (
        this.options.requireKey !== undefined &&
        req.headers.authorization !== `Bearer ${this.options.requireKey}`
      ) {
        return sendJson(res, 401, {
          error: {
            message: 'Incorrect API key provided.',
            type: 'invalid_request_error',
            code: 'invalid_api_key',
          },
        });
      }
      if (req.method === 'POST' && path === '/v1/chat/completions')
        return await this.chat(body as ChatBody, res);
      if (req.method === 'POST' && path === '/v1/moderations') {
        const mod = this.options.moderation;
        if (!mod) return sendJson(res, 404, { error: { message: 'Not found: /v1/moderations' } });
        const input = (body as { input?: unknown }).input;
        const inputs = Array.isArray(input) ? input.map(String) : [String(input)];
        return sendJson(res, 200, {
          id: 'modr-test',
          model: 'omni-moderation-latest',
          results: inputs.map((i) => {
            const cats = mod(i) ?? [];
            return {
              flagged: cats.length > 0,
              categories: Object.fromEntries(cats.map((c) => [c, true])),
              category_scores: Object.fromEntries(cats.map((c) => [c, 0.99])),
            };
          }),
        });
      }
      if (req.method === 'GET' && path === '/v1/models') {
        return sendJson(res, 200, {
          object: 'list',
          data: this.models().map((id) => ({ id, object: 'model', created: 0, owned_by: 'test' })),
        });
      }
      if (req.method === 'POST' && path === '/v1/files') return this.uploadFile(raw, ctype, res);
      let m = /^\/v1\/files\/([^/]+)\/content$/.exec(path);
      if (req.method === 'GET' && m) {
        const f = this.files.get(m[1] ?? '');
        if (!f) return sendJson(res, 404, { error: { message: `No such File object: ${m[1]}` } });
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return void res.end(f.content);
      }
      m = /^\/v1\/files\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && m) {
        const f = this.files.get(m[1] ?? '');
        if (!f) return sendJson(res, 404, { error: { message: `No such File object: ${m[1]}` } });
        return sendJson(res, 200, fileObject(f));
      }
      if (req.method === 'POST' && path === '/v1/batches') return this.createBatch(body, res);
      m = /^\/v1\/batches\/([^/]+)(\/cancel)?$/.exec(path);
      if (m) {
        const b = this.batches.get(m[1] ?? '');
        if (!b) return sendJson(res, 404, { error: { message: `No such batch: ${m[1]}` } });
        if (m[2] && req.method === 'POST') {
          if (b.status === 'validating' || b.status === 'in_progress') b.status = 'cancelled';
        }
        return sendJson(res, 200, b);
      }
      sendJson(res, 404, { error: { message: `Unknown route ${req.method} ${path}` } });
    } catch (e) {
      if (!res.headersSent)
        sendJson(res, 500, { error: { message: e instanceof Error ? e.message : String(e) } });
      else res.destroy();
    }
  }

  private models(): string[] {
    return this.options.models ?? ['parrot-ask', 'gpt-test'];
  }

  /** Produces the answer to one chat body (without transport): status + JSON. */
  async completion(
    body: ChatBody,
    fault: Fault | undefined,
    customId?: string,
  ): Promise<{ status: number; json: unknown; headers?: Record<string, string> }> {
    if (fault?.type === 'status') {
      return {
        status: fault.status,
        json: {
          error: {
            message: fault.message ?? `injected ${fault.status}`,
            type: 'test',
            code: fault.code ?? null,
          },
        },
        headers: fault.headers,
      };
    }
    const check = this.validate(body);
    if (check) return check;
    const n = this.options.ignoreN || fault?.type === 'ignore-n' ? 1 : Math.max(1, body.n ?? 1);
    const seq = this.chatSeq++;
    const texts: string[] = [];
    for (let i = 0; i < n; i++) texts.push(await this.respond({ body, choice: i, seq, customId }));
    return {
      status: 200,
      json: {
        id: this.id('chatcmpl'),
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: texts.map((t, index) => ({
          index,
          message: { role: 'assistant', content: t },
          finish_reason: 'stop',
          logprobs: null,
        })),
        usage: {
          prompt_tokens: 10,
          completion_tokens: texts.reduce((a, t) => a + Math.ceil(t.length / 4), 0),
          total_tokens: 0,
        },
      },
    };
  }

  private validate(body: ChatBody): { status: number; json: unknown } | undefined {
    if (!body || typeof body.model !== 'string' || !Array.isArray(body.messages)) {
      return {
        status: 400,
        json: { error: { message: "'model' and 'messages' are required", type: 'invalid_request_error' } },
      };
    }
    if (!this.models().includes(body.model)) {
      return {
        status: 404,
        json: {
          error: {
            message: `The model \`${body.model}\` does not exist.`,
            type: 'invalid_request_error',
            code: 'model_not_found',
          },
        },
      };
    }
    return undefined;
  }

  private respond(call: ChatCall): Promise<string> {
    const r = this.options.responder;
    if (r) return Promise.resolve(r(call));
    return Promise.resolve(`Reply ${call.seq}.${call.choice}`);
  }

  private async chat(body: ChatBody, res: http.ServerResponse): Promise<void> {
    const fault = this.takeFault();
    if (this.options.latencyMs) await delay(this.options.latencyMs);
    if (fault?.type === 'latency') await delay(fault.ms);
    if (fault?.type === 'hang') return; // never answers; the client must time out or cancel
    if (fault?.type === 'reset') return void res.socket?.destroy();
    if (fault?.type === 'redirect') {
      res.writeHead(fault.status, { location: fault.location, 'content-length': '0' });
      return void res.end();
    }
    if (fault?.type === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end('{"id": "chatcmpl-x", "choices": [ {"index": 0, "mess');
    }
    if (!body?.stream) {
      const out = await this.completion(body, fault);
      return sendJson(res, out.status, out.json, out.headers);
    }
    if (fault?.type === 'status') {
      const out = await this.completion(body, fault);
      return sendJson(res, out.status, out.json, out.headers);
    }
    const invalid = this.validate(body);
    if (invalid) return sendJson(res, invalid.status, invalid.json);
    const seq = this.chatSeq++;
    const text = await this.respond({ body, choice: 0, seq });
    const id = this.id('chatcmpl');
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const size = this.options.chunkChars ?? 4;
    const send = (delta: Record<string, unknown>, finish: string | null): void => {
      const chunk = {
        id,
        object: 'chat.completion.chunk',
        created: 0,
        model: body.model,
        choices: [{ index: 0, delta, finish_reason: finish }],
      };
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    };
    send({ role: 'assistant', content: '' }, null);
    let chunks = 0;
    for (let i = 0; i < text.length; i += size) {
      if (fault?.type === 'cut' && chunks >= fault.afterChunks) {
        await delay(30); // let the chunks already written reach the client
        res.socket?.destroy();
        return;
      }
      send({ content: text.slice(i, i + size) }, null);
      chunks++;
      if (this.options.chunkDelayMs) await delay(this.options.chunkDelayMs);
      if (res.destroyed) return;
    }
    if (fault?.type === 'cut') {
      await delay(30);
      res.socket?.destroy();
      return;
    }
    send({}, 'stop');
    res.write('data: [DONE]\n\n');
    res.end();
  }

  private uploadFile(raw: Buffer, ctype: string, res: http.ServerResponse): void {
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(ctype);
    if (!boundary) return sendJson(res, 400, { error: { message: 'expected multipart/form-data' } });
    const parts = parseMultipart(raw, boundary[1] ?? boundary[2] ?? '');
    const file = parts.find((p) => p.name === 'file');
    const purpose = parts.find((p) => p.name === 'purpose')?.data.toString('utf8') ?? '';
    if (!file) return sendJson(res, 400, { error: { message: "multipart field 'file' is missing" } });
    const f: StoredFile = {
      id: this.id('file'),
      filename: file.filename ?? 'upload',
      purpose,
      content: file.data,
      created_at: Math.floor(Date.now() / 1000),
    };
    this.files.set(f.id, f);
    sendJson(res, 200, fileObject(f));
  }

  private createBatch(body: unknown, res: http.ServerResponse): void {
    const b = body as {
      input_file_id?: string;
      endpoint?: string;
      completion_window?: string;
      metadata?: Record<string, string>;
    };
    const input = this.files.get(b?.input_file_id ?? '');
    if (!input)
      return sendJson(res, 400, { error: { message: `input_file_id ${b?.input_file_id} not found` } });
    if (input.purpose !== 'batch')
      return sendJson(res, 400, { error: { message: "input file purpose must be 'batch'" } });
    const batch: StoredBatch = {
      id: this.id('batch'),
      object: 'batch',
      endpoint: b.endpoint ?? '/v1/chat/completions',
      input_file_id: input.id,
      completion_window: b.completion_window ?? '24h',
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      created_at: Math.floor(Date.now() / 1000),
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: b.metadata ?? null,
      errors: null,
    };
    this.batches.set(batch.id, batch);
    sendJson(res, 200, batch);
    void this.runBatch(batch, input);
  }

  private async runBatch(batch: StoredBatch, input: StoredFile): Promise<void> {
    const step = this.options.batchStepMs ?? 20;
    await delay(step);
    const lines = input.content
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    const parsed: { custom_id: string; body: ChatBody; url: string }[] = [];
    for (let i = 0; i < lines.length; i++) {
      try {
        const o = JSON.parse(lines[i] ?? '') as {
          custom_id: string;
          body: ChatBody;
          url: string;
          method: string;
        };
        if (typeof o.custom_id !== 'string' || o.method !== 'POST' || typeof o.body !== 'object')
          throw new Error('bad line');
        parsed.push(o);
      } catch {
        batch.status = 'failed';
        batch.errors = {
          data: [
            { code: 'invalid_json_line', message: `line ${i + 1} is not a valid batch request`, line: i + 1 },
          ],
        };
        return;
      }
    }
    if (new Set(parsed.map((p) => p.custom_id)).size !== parsed.length) {
      batch.status = 'failed';
      batch.errors = { data: [{ code: 'duplicate_custom_id', message: 'custom_id values must be unique' }] };
      return;
    }
    if ((batch.status as string) === 'cancelled') return;
    batch.status = 'in_progress';
    batch.request_counts.total = parsed.length;
    await delay(step);
    const out: string[] = [];
    const errs: string[] = [];
    for (const p of parsed) {
      if ((batch.status as string) === 'cancelled') return;
      if (this.options.recordRequests !== false)
        this.batchRequests.push({ batch: batch.id, customId: p.custom_id, body: p.body });
      const fault = this.options.batchFault?.(p.custom_id);
      const r = await this.completion({ ...p.body, stream: false }, fault, p.custom_id);
      const line = {
        id: this.id('batch_req'),
        custom_id: p.custom_id,
        response: { status_code: r.status, request_id: this.id('req'), body: r.json },
        error: null,
      };
      if (r.status === 200) {
        out.push(JSON.stringify(line));
        batch.request_counts.completed++;
      } else {
        errs.push(JSON.stringify(line));
        batch.request_counts.failed++;
      }
    }
    batch.status = 'finalizing';
    await delay(step);
    const mk = (lines2: string[], name: string): string | null => {
      if (!lines2.length) return null;
      const f: StoredFile = {
        id: this.id('file'),
        filename: name,
        purpose: 'batch_output',
        content: Buffer.from(lines2.join('\n') + '\n'),
        created_at: 0,
      };
      this.files.set(f.id, f);
      return f.id;
    };
    batch.output_file_id = mk(out, `${batch.id}_output.jsonl`);
    batch.error_file_id = mk(errs, `${batch.id}_error.jsonl`);
    batch.status = 'completed';
  }
}

export async function startOpenAIServer(options: ServerOptions = {}): Promise<TestOpenAIServer> {
  return new TestOpenAIServer(options).start();
}

function fileObject(f: StoredFile): Record<string, unknown> {
  return {
    id: f.id,
    object: 'file',
    bytes: f.content.length,
    created_at: f.created_at,
    filename: f.filename,
    purpose: f.purpose,
    status: 'processed',
  };
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  json: unknown,
  headers: Record<string, string> = {},
): void {
  const data = JSON.stringify(json);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(data),
    ...headers,
  });
  res.end(data);
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface MultipartPart {
  name?: string;
  filename?: string;
  data: Buffer;
}

function parseMultipart(raw: Buffer, boundary: string): MultipartPart[] {
  const delim = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = raw.indexOf(delim);
  while (pos >= 0) {
    const start = pos + delim.length;
    if (raw.subarray(start, start + 2).toString() === '--') break;
    const next = raw.indexOf(delim, start);
    if (next < 0) break;
    const chunk = raw.subarray(start + 2, next - 2); // skip CRLF after delimiter and before next
    const headerEnd = chunk.indexOf('\r\n\r\n');
    if (headerEnd >= 0) {
      const head = chunk.subarray(0, headerEnd).toString('utf8');
      const name = /name="([^"]*)"/.exec(head)?.[1];
      const filename = /filename="([^"]*)"/.exec(head)?.[1];
      parts.push({ name, filename, data: chunk.subarray(headerEnd + 4) });
    }
    pos = next;
  }
  return parts;
}
