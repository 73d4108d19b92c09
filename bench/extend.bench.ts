/**
 * Extends 1000 dialogues against the loopback OpenAI-compatible server (100 ms per request) at
 * concurrency 16 and compares the wall time with the ideal (requests x latency / concurrency).
 * Also prints RSS at start / middle / end and how fast a cancelled run settles.
 */
import { cpus, loadavg } from 'node:os';
import { LlmClient, resolveConfig } from '../src/core/llm';
import type { Dialogue } from '../src/core/model';
import { extendMany, type ExtendSettings } from '../src/core/parrot';
import { startOpenAIServer, type ChatCall } from '../test/support/openai-server';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1000);
const LATENCY = 100;
const CONCURRENCY = 16;
const TURNS = 2; // each record: 1 exchange -> 2 user questions = 1 ask + 1 answer

function responder({ body, seq }: ChatCall): string {
  const first = body.messages[0];
  const isAsk = first?.role === 'system' && String(first.content).includes('You are the user');
  return isAsk
    ? `Follow-up ${seq}: how does that compare with the alternative?`
    : `Answer ${seq}: ${'lorem ipsum dolor sit amet '.repeat(20)}`;
}

const seed = (i: number): Dialogue => ({
  kind: 'dialogue',
  turns: [
    { role: 'user', content: `Question ${i}: explain topic ${i % 50} in detail.` },
    { role: 'assistant', content: `Topic ${i % 50} is explained here. ${'More text. '.repeat(30)}` },
  ],
  meta: { id: `r${i}` },
});

const settings: ExtendSettings = {
  ask: { mode: 'parrot-ask', model: 'parrot-ask', temperature: 0.8, maxTokens: 64, n: 1 },
  answer: { model: 'gpt-test', temperature: 0.7, maxTokens: 256 },
};

const mb = (): string => {
  // With --expose-gc, collect first so the figure shows live memory rather than GC timing.
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return `${(m.rss / 1048576).toFixed(1)} MB (heap ${(m.heapUsed / 1048576).toFixed(1)} MB)`;
};

async function main(): Promise<void> {
  const server = await startOpenAIServer({
    responder,
    latencyMs: LATENCY,
    chunkChars: 64,
    recordRequests: false,
  });
  const client = new LlmClient(
    resolveConfig({ baseUrl: server.baseUrl, concurrency: CONCURRENCY, maxRetries: 0, timeoutMs: 30_000 }),
  );
  const rss: string[] = [`start ${mb()}`];
  let finished = 0;
  let kept = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const p = await extendMany(
    client,
    (function* () {
      for (let i = 0; i < RECORDS; i++) yield { index: i, dialogue: seed(i) };
    })(),
    TURNS,
    settings,
    {
      onResult: (_i, r) => {
        finished++;
        if (r.status === 'done' && r.dialogue.turns.length === 4) kept++;
        if (finished === Math.floor(RECORDS / 2)) rss.push(`middle ${mb()}`);
      },
    },
  );
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuShare = (cpu.user + cpu.system) / 1e6 / elapsed;
  rss.push(`end ${mb()}`);
  const requests = server.received;
  const maxInFlight = server.maxInFlight;
  const ideal = (requests * LATENCY) / CONCURRENCY / 1000;
  const ratio = elapsed / ideal;

  // Baseline in the same run: the same number of requests with bare fetch (no SDK, no engine),
  // half JSON and half streamed like the engine's ask/answer mix, at the same concurrency.
  const perWorker = Math.ceil(requests / CONCURRENCY);
  const b0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      for (let i = 0; i < perWorker; i++) {
        const stream = (i + w) % 2 === 1;
        const body = JSON.stringify({
          model: 'gpt-test',
          stream,
          messages: [{ role: 'user', content: `baseline ${w}.${i}` }],
        });
        const res = await fetch(`${server.baseUrl}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await res.text();
      }
    }),
  );
  const baseline = (performance.now() - b0) / 1000;

  // Cancellation: start again, abort after 1 s, time until extendMany settles.
  server.reset();
  const ac = new AbortController();
  const run = extendMany(
    client,
    Array.from({ length: RECORDS }, (_, i) => ({ index: i, dialogue: seed(i) })),
    TURNS,
    settings,
    { signal: ac.signal },
  );
  await new Promise((r) => setTimeout(r, 1000));
  const c0 = performance.now();
  ac.abort();
  const cp = await run;
  const cancelMs = performance.now() - c0;
  await server.close();

  const out = [
    `extend: ${RECORDS} dialogues to ${TURNS} user turns, ${requests} requests, ${LATENCY} ms latency, concurrency ${CONCURRENCY}`,
    `  done ${p.done}, failed ${p.failed}, complete dialogues ${kept}, max in flight at the server ${maxInFlight}`,
    `  elapsed ${elapsed.toFixed(2)} s vs ideal ${ideal.toFixed(2)} s -> ratio ${ratio.toFixed(3)}x (target <= 1.2x) ${ratio <= 1.2 ? 'OK' : 'SLOW'}`,
    `  baseline (bare fetch, same requests and concurrency, same run): ${baseline.toFixed(2)} s = ${(baseline / ideal).toFixed(3)}x ideal; engine / baseline = ${(elapsed / baseline).toFixed(3)}x`,
    `  CPU (client + server in one process): ${(cpuShare * 100).toFixed(0)}% of one core; load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} core(s)`,
    `  RSS ${rss.join(', ')}`,
    `  cancel: settled ${cancelMs.toFixed(0)} ms after abort (target < 1000 ms) ${cancelMs < 1000 ? 'OK' : 'SLOW'}; kept ${cp.done} finished, ${cp.cancelled} cancelled`,
  ];
  process.stdout.write(out.join('\n') + '\n');
  if (p.failed || ratio > 1.2 || cancelMs >= 1000) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 2;
});
