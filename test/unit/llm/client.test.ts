import * as assert from 'node:assert/strict';
import {
  LlmClient,
  LlmError,
  keyScopeFor,
  isLocalEndpoint,
  resolveConfig,
  retryAfterMs,
  Semaphore,
  redact,
  type LlmConfig,
} from '../../../src/core/llm';
import { startOpenAIServer, type TestOpenAIServer } from '../../support/openai-server';

function cfg(server: TestOpenAIServer, over: Partial<LlmConfig> = {}): LlmConfig {
  return resolveConfig({
    baseUrl: server.baseUrl,
    models: { asker: 'parrot-ask', answerer: 'gpt-test' },
    maxRetries: 2,
    timeoutMs: 5000,
    concurrency: 4,
    ...over,
  });
}

const fastBackoff = { backoffBaseMs: 5, backoffMaxMs: 20 };

async function rejects(p: Promise<unknown>): Promise<LlmError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LlmError, `expected LlmError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}

describe('llm client (real SDK against the loopback server)', () => {
  let server: TestOpenAIServer;
  beforeEach(async () => {
    server = await startOpenAIServer({ responder: ({ choice, seq }) => `answer ${seq}/${choice}` });
  });
  afterEach(() => server.close());

  it('non-streaming chat with n > 1 returns every choice', async () => {
    const c = new LlmClient(cfg(server));
    const r = await c.chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], n: 3 });
    assert.deepEqual(r.texts, ['answer 0/0', 'answer 0/1', 'answer 0/2']);
    assert.equal(r.requests, 1);
    assert.equal((server.chatRequests[0]?.body as { n?: number }).n, 3);
  });

  it('tops up choices with extra requests when the server ignores n', async () => {
    server.options.ignoreN = true;
    const c = new LlmClient(cfg(server));
    const r = await c.chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], n: 3 });
    assert.equal(r.texts.length, 3);
    assert.equal(r.requests, 3);
    assert.equal(new Set(r.texts).size, 3);
  });

  it('streams deltas and assembles the text', async () => {
    server.options.responder = () => 'The quick brown fox jumps over the lazy dog.';
    const c = new LlmClient(cfg(server));
    const deltas: string[] = [];
    const text = await c.streamText(
      { model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] },
      { onDelta: (d) => deltas.push(d) },
    );
    assert.equal(text, 'The quick brown fox jumps over the lazy dog.');
    assert.ok(deltas.length > 5, 'arrives in several pieces');
    assert.equal((server.chatRequests[0]?.body as { stream?: boolean }).stream, true);
  });

  it('401 -> the key was rejected, with the hint', async () => {
    server.options.requireKey = 'right';
    const c = new LlmClient(cfg(server, { apiKey: 'wrong-key-123' }), {
      keyHint: 'set OPENAI_API_KEY or --api-key-env',
    });
    const e = await rejects(c.chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }));
    assert.equal(e.kind, 'auth');
    assert.equal(
      e.message,
      `the key was rejected by ${new URL(server.baseUrl).host} — set OPENAI_API_KEY or --api-key-env`,
    );
    assert.ok(!e.message.includes('wrong-key-123'));
    assert.equal(server.chatRequests.length, 1, 'auth errors are not retried');
  });

  it('401 with no key set -> says a key is needed, not that it was rejected', async () => {
    server.options.requireKey = 'right';
    const c = new LlmClient(cfg(server), { keyHint: 'run Parrot: Set API Key' });
    const e = await rejects(c.chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }));
    assert.equal(e.kind, 'auth');
    assert.equal(
      e.message,
      `${new URL(server.baseUrl).host} needs an API key and none is set (HTTP 401) — run Parrot: Set API Key`,
    );
  });

  it('sends Authorization only when a key is configured (never the environment key)', async () => {
    const prev = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = 'sk-from-environment-should-not-leak';
    try {
      await new LlmClient(cfg(server)).chat({
        model: 'gpt-test',
        messages: [{ role: 'user', content: 'x' }],
      });
      await new LlmClient(cfg(server, { apiKey: 'k1' })).chat({
        model: 'gpt-test',
        messages: [{ role: 'user', content: 'x' }],
      });
    } finally {
      if (prev === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = prev;
    }
    assert.equal(server.chatRequests[0]?.headers.authorization, undefined);
    assert.equal(server.chatRequests[1]?.headers.authorization, 'Bearer k1');
  });

  it('404 model -> names the model and lists what the server has', async () => {
    const c = new LlmClient(cfg(server));
    const e = await rejects(c.chat({ model: 'nope-7b', messages: [{ role: 'user', content: 'x' }] }));
    assert.equal(e.kind, 'model-not-found');
    assert.match(
      e.message,
      /^model 'nope-7b' not found on 127\.0\.0\.1:\d+ — available: parrot-ask, gpt-test$/,
    );
  });

  it('unreachable host -> cannot reach … is the server running?', async () => {
    const port = new URL(server.baseUrl).port;
    await server.close();
    const c = new LlmClient(resolveConfig({ baseUrl: `http://127.0.0.1:${port}/v1`, maxRetries: 0 }));
    const e = await rejects(c.chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }));
    assert.equal(e.kind, 'unreachable');
    assert.match(e.message, /^cannot reach 127\.0\.0\.1:\d+ — is the server running\?/);
    server = await startOpenAIServer(); // for afterEach
  });

  it('honours retry-after (seconds) on 429 and waits at least that long', async () => {
    server.inject({ type: 'status', status: 429, headers: { 'retry-after': '1' } });
    const c = new LlmClient(cfg(server), fastBackoff);
    const t0 = Date.now();
    const r = await c.chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] });
    const waited = (server.chatRequests[1]?.at ?? 0) - (server.chatRequests[0]?.at ?? 0);
    assert.equal(r.texts.length, 1);
    assert.equal(server.chatRequests.length, 2);
    assert.ok(waited >= 1000, `retry came after ${waited} ms`);
    assert.ok(Date.now() - t0 < 3000);
  });

  it('honours retry-after-ms and HTTP-date retry-after on 5xx', async () => {
    server.inject({ type: 'status', status: 503, headers: { 'retry-after-ms': '300' } });
    server.inject({
      type: 'status',
      status: 500,
      headers: { 'retry-after': new Date(Date.now() + 3000).toUTCString() },
    });
    const c = new LlmClient(cfg(server), fastBackoff);
    await c.chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] });
    const at = server.chatRequests.map((r) => r.at);
    assert.equal(at.length, 3);
    assert.ok((at[1] ?? 0) - (at[0] ?? 0) >= 300, 'retry-after-ms honoured');
    assert.ok((at[2] ?? 0) - (at[1] ?? 0) > 1500, 'HTTP-date honoured (second resolution)');
  });

  it('gives up after maxRetries with a 5xx message', async () => {
    server.inject({ type: 'status', status: 500, message: 'boom' }, 5);
    const c = new LlmClient(cfg(server, { maxRetries: 2 }), fastBackoff);
    const e = await rejects(c.chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }));
    assert.equal(e.kind, 'server');
    assert.match(e.message, /internal error \(500\): boom \(gave up after 3 attempts\)/);
    assert.equal(server.chatRequests.length, 3);
  });

  it('times out with an actionable message', async () => {
    server.inject({ type: 'hang' });
    const c = new LlmClient(cfg(server, { timeoutMs: 300, maxRetries: 0 }));
    const e = await rejects(c.chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }));
    assert.equal(e.kind, 'timeout');
    assert.match(e.message, /did not answer within 300 ms — raise the timeout/);
  });

  it('malformed JSON -> not valid JSON message', async () => {
    server.inject({ type: 'malformed' });
    const c = new LlmClient(cfg(server, { maxRetries: 0 }));
    const e = await rejects(c.chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }));
    assert.equal(e.kind, 'malformed');
    assert.match(e.message, /not valid JSON/);
  });

  it('a stream cut mid-way keeps the partial text', async () => {
    server.options.responder = () => 'abcdefghijklmnopqrstuvwxyz';
    server.inject({ type: 'cut', afterChunks: 3 });
    const c = new LlmClient(cfg(server));
    const e = await rejects(c.streamText({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }));
    assert.equal(e.kind, 'stream-cut');
    assert.equal(e.details.partial, 'abcdefghijkl');
    assert.match(e.message, /stopped mid-way after 12 characters; the partial text was kept/);
    assert.equal(server.chatRequests.length, 1, 'not retried after text arrived');
  });

  it('cancels a hanging request quickly', async () => {
    server.inject({ type: 'hang' });
    const c = new LlmClient(cfg(server));
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 100);
    const e = await rejects(
      c.chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }, { signal: ac.signal }),
    );
    assert.equal(e.kind, 'cancelled');
    assert.ok(Date.now() - t0 < 600, `settled after ${Date.now() - t0} ms`);
  });

  it('cancels during a retry wait', async () => {
    server.inject({ type: 'status', status: 429, headers: { 'retry-after': '30' } });
    const c = new LlmClient(cfg(server));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = Date.now();
    const e = await rejects(
      c.chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }, { signal: ac.signal }),
    );
    assert.equal(e.kind, 'cancelled');
    assert.ok(Date.now() - t0 < 600);
  });

  it('never has more than `concurrency` requests in flight', async () => {
    server.options.latencyMs = 30;
    const c = new LlmClient(cfg(server, { concurrency: 3 }));
    await Promise.all(
      Array.from({ length: 20 }, () =>
        c.chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }),
      ),
    );
    assert.equal(server.chatRequests.length, 20);
    assert.equal(server.maxInFlight, 3);
  });
});

describe('llm helpers', () => {
  it('keyScopeFor is the origin; isLocalEndpoint', () => {
    assert.equal(keyScopeFor('https://api.openai.com/v1'), 'https://api.openai.com');
    assert.equal(keyScopeFor('http://127.0.0.1:8000/v1'), 'http://127.0.0.1:8000');
    assert.notEqual(keyScopeFor('http://127.0.0.1:8000/v1'), keyScopeFor('http://127.0.0.1:8001/v1'));
    assert.ok(isLocalEndpoint('http://localhost:11434/v1'));
    assert.ok(isLocalEndpoint('http://[::1]:8000/v1'));
    assert.ok(isLocalEndpoint('http://127.0.0.1/v1'));
    assert.ok(!isLocalEndpoint('https://api.openai.com/v1'));
    assert.ok(!isLocalEndpoint('http://127.0.0.1.evil.com/v1'));
    assert.throws(() => keyScopeFor('not a url'), /not a URL/);
  });

  it('retryAfterMs reads ms, seconds and dates', () => {
    const h = (o: Record<string, string>) => (n: string) => o[n];
    assert.equal(retryAfterMs(h({ 'retry-after-ms': '250' })), 250);
    assert.equal(retryAfterMs(h({ 'retry-after': '2' })), 2000);
    assert.equal(retryAfterMs(h({ 'retry-after': new Date(10_000).toUTCString() }), 4000), 6000);
    assert.equal(retryAfterMs(h({ 'retry-after': 'soon' })), undefined);
    assert.equal(retryAfterMs(h({})), undefined);
  });

  it('semaphore aborts waiters', async () => {
    const s = new Semaphore(1);
    await s.acquire();
    const ac = new AbortController();
    const p = s.acquire(ac.signal);
    ac.abort();
    await assert.rejects(p);
    s.release();
    assert.equal(s.inFlight, 0);
  });

  it('redact removes keys', () => {
    assert.equal(redact('Authorization: Bearer abc.def'), 'Authorization: Bearer [redacted]');
    assert.equal(redact('{"api_key": "abc123"}'), '{"api_key": "[redacted]"}');
    assert.equal(redact('key sk-abcdefghijkl here'), 'key sk-[redacted] here');
    assert.equal(redact('x my-secret y', ['my-secret']), 'x [redacted] y');
    // A key echoed without its prefix, cut in two, or inside other text loses every long piece.
    const key = 'sk-proj-Q7vT2mXc9LpR4sWz8NbK1yHd';
    for (const echoed of [
      `key ${key.slice(3)} invalid`,
      `key ${key.slice(0, 3)}…${key.slice(3)}`,
      `prefix${key.slice(5, 25)}suffix`,
    ]) {
      const r = redact(echoed, [key]);
      for (let i = 0; i + 10 <= key.length; i++)
        assert.ok(!r.includes(key.slice(i, i + 10)), `${r} (from ${echoed})`);
    }
    assert.equal(redact('the model said: hello there', [key]), 'the model said: hello there');
  });
});

describe('llm client: connection resets, redirects, redaction', () => {
  let server: TestOpenAIServer;
  beforeEach(async () => {
    server = await startOpenAIServer({ responder: ({ choice, seq }) => `answer ${seq}/${choice}` });
  });
  afterEach(() => server.close());

  it('connection resets (ECONNRESET / socket closed) are retried like 5xx, for JSON and streams', async () => {
    const c = new LlmClient(cfg(server), fastBackoff);
    server.inject({ type: 'reset' }, 2);
    const r = await c.chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.texts.length, 1);
    assert.equal(server.chatRequests.length, 3);
    server.inject({ type: 'reset' }, 1);
    const text = await c.streamText({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });
    assert.match(text, /^answer /);
    server.inject({ type: 'reset' }, 5);
    const e = await rejects(c.chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }));
    assert.equal(e.kind, 'reset');
    assert.match(e.message, /was reset|closed before an answer/);
    assert.match(e.message, /gave up after 3 attempts/);
  });

  it('a POST redirected (307/308) to another origin is not followed: the dataset text stays home', async () => {
    const other = await startOpenAIServer({ responder: () => 'elsewhere' });
    try {
      const c = new LlmClient(cfg(server, { apiKey: 'sk-testkey-0123456789' }), fastBackoff);
      for (const status of [307, 308, 302]) {
        server.inject({ type: 'redirect', status, location: `${other.baseUrl}/chat/completions` });
        const e = await rejects(
          c.chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'private text' }] }),
        );
        assert.equal(e.kind, 'redirect');
        assert.match(e.message, new RegExp(`redirected the request \\(${status}\\) to another origin`));
      }
      assert.equal(other.received, 0, 'nothing reached the other origin');
      // Same origin: followed, body and key kept.
      server.inject({ type: 'redirect', status: 307, location: `${server.baseUrl}/chat/completions` });
      const r = await c.chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(r.texts.length, 1);
      assert.equal(server.chatRequests.at(-1)?.headers.authorization, 'Bearer sk-testkey-0123456789');
    } finally {
      await other.close();
    }
  });

  it('a server error that echoes the key is redacted before anyone sees it', async () => {
    const key = 'my-secret-key-without-prefix';
    const c = new LlmClient(cfg(server, { apiKey: key, maxRetries: 0 }));
    server.inject({
      type: 'status',
      status: 500,
      message: `bad key ${key}; header Bearer ${key}; proxy http://user:hunter2@proxy.local/v1`,
    });
    const e = await rejects(c.chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }));
    assert.ok(!e.message.includes(key), e.message);
    assert.ok(!e.message.includes('hunter2'), e.message);
    assert.match(e.message, /\[redacted\]/);
    server.inject({ type: 'status', status: 400, message: `echo ${key}` });
    const s = await rejects(c.streamText({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }));
    assert.ok(!s.message.includes(key), s.message);
    // Once a client used the key, every redact() call knows it (the CLI's stderr, the extension's log).
    assert.equal(redact(`said ${key}`), 'said [redacted]');
    assert.equal(redact('see https://bob:pa55@example.com/x'), 'see https://bob:[redacted]@example.com/x');
  });
});
