/**
 * What handing audit records to the audit thread costs (issue 15): CPU time of the main thread
 * and of the audit thread per record, read from /proc/self/task/<tid>/schedstat (nanoseconds of
 * CPU, Linux only), while 20,000 realistic ~3 KB request records are appended in batches of 20
 * (one batch per turn of the event loop, as under load) to a ThreadedAuditWriter on an SQLite
 * file in a temporary directory. Each record is made fresh, as the pipeline makes one per
 * request; the main-thread figure has the cost of making them measured separately (the same
 * loop without a writer) and taken off.
 *
 * Then the main thread's share piece by piece, posting to an idle worker: a structured clone
 * of the record objects (the hand-over before issue 15's change) against JSON.stringify alone and
 * prepareRecord plus posting the text and columns (the hand-over now).
 *
 *   npx tsx bench/audit-handover.ts [--records 20000] [--batch 20] [--runs 3]
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AuditRecord } from '../src/audit/record.js';
import { ThreadedAuditWriter } from '../src/audit/thread-writer.js';
import { openSqlite } from '../src/store/sqlite/database.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RECORDS = arg('records', 20_000);
const BATCH = arg('batch', 20);
const RUNS = arg('runs', 3);

/** A finished chat request as buildAuditRecord makes it: every signal (~3.2 KB of JSON, 118 keys). */
function benchRecord(i: number): AuditRecord {
  const tenant = i % 2 === 0 ? 'acme' : 'globex';
  const t = 1_760_000_000_000 + i * 7;
  return {
    kind: 'request',
    decision_id: `dec_01JBENCH${String(i).padStart(12, '0')}`,
    request_id: `req_${(i * 2654435761).toString(16).padStart(12, '0')}`,
    received_at: new Date(t).toISOString(),
    received_at_ms: t,
    tenant_id: tenant,
    team_id: `${tenant}-platform`,
    agent_id: 'support-bot',
    key_id: `key_${tenant}_prod_01`,
    end_user: `user-${i % 97}@${tenant}.example`,
    client_ip: `10.0.${i % 250}.${(i * 7) % 250}`,
    user_agent: 'OpenAI/Python 1.99.1',
    sdk: 'openai-python/1.99.1',
    endpoint: '/v1/chat/completions',
    surface: 'chat-completions',
    method: 'POST',
    model_requested: 'gpt-5.4',
    model_resolved: 'gpt-5.4',
    provider: 'openai',
    upstream_model: 'gpt-5.4-2026-01-15',
    stream: i % 3 === 0,
    body_bytes: 3_912 + (i % 500),
    message_count: 4,
    system_prompt_present: true,
    input_hash: `sha256:${'9f2c4e1a7b3d5f60'.repeat(4)}`,
    input_chars: 3_410 + (i % 500),
    input_tokens_estimated: 812 + (i % 100),
    max_tokens: 800,
    temperature: 0.2,
    top_p: null,
    tools_count: 2,
    tool_choice: 'auto',
    response_format: null,
    has_images: false,
    n: null,
    policy_outcome: 'ALLOW',
    policy_version: 'default@v12',
    matched_rules: ['pii-log'],
    risk_score: 0.31,
    risk_factors: [{ rule: 'pii-log', detector: 'pii', weight: 0.31 }],
    policy_name: 'default',
    shadow_outcome: null,
    pii_detected: true,
    pii_types: ['email'],
    secrets_detected: false,
    secret_types: [],
    injection_score: 0.04,
    blocked_terms: [],
    redactions: 0,
    redaction_types: [],
    policy_errors: [],
    response_policy_outcome: 'ALLOW',
    response_matched_rules: [],
    review_id: null,
    review_mode: null,
    review_decision: null,
    reviewer: null,
    review_wait_ms: null,
    cost_estimated_usd: 0.012_4,
    budget_reserved_usd: 0.018_6,
    budget_scope_hit: null,
    budget_remaining_usd: { tenant: 4_812.33 - i / 1000, team: 912.5, key: 88.12 },
    budget_utilization: { tenant: 0.037, team: 0.087, key: 0.119 },
    rate_limited: false,
    ratelimit_wait_ms: 0,
    ratelimit_remaining_requests: 4_812,
    ratelimit_remaining_tokens: 1_893_220,
    cost_usd: 0.009_87 + (i % 13) / 100_000,
    input_tokens: 821 + (i % 100),
    output_tokens: 212 + (i % 50),
    cached_tokens: 512,
    reasoning_tokens: 0,
    usage_estimated: false,
    price_input_per_mtok: 1.25,
    price_output_per_mtok: 10,
    attempts: 1,
    attempt_log: [{ model: 'gpt-5.4', deployment: 'openai-east', status: 200, error: null, latency_ms: 612.4 }],
    fallback_used: false,
    fallback_chain: ['gpt-5.4', 'claude-sonnet'],
    deployment: 'openai-east',
    circuit_state: 'closed',
    upstream_status: 200,
    upstream_error: null,
    upstream_request_id: `req_up_${i.toString(36)}x7k2m9`,
    time_to_first_token_ms: 241.7,
    upstream_latency_ms: 612.4,
    gateway_overhead_ms: 1.9,
    total_latency_ms: 614.3,
    finish_reason: 'stop',
    output_chars: 903,
    output_hash: `sha256:${'0b7e2f9d4c1a8e36'.repeat(4)}`,
    // Prompt and completion storage is off by default (audit.store_content).
    prompt: null,
    completion: null,
    tool_calls_count: 0,
    proposed_tool_calls: [],
    tool_call_policy_outcome: null,
    tool_call_matched_rules: [],
    tool_call_review_id: null,
    tool_call_review_decision: null,
    tool_call_reviewer: null,
    tool_call_review_wait_ms: null,
    mcp_server: null,
    tool_name: null,
    args_hash: null,
    args_bytes: null,
    result_hash: null,
    result_bytes: null,
    tool_duration_ms: null,
    tool_outcome: null,
    client_disconnected: false,
    stream_interrupted: false,
    refusals_summarised: null,
    http_status: 200,
    error_code: null,
    error_type: null,
    gateway_instance: 'omega-bench-1',
    gateway_version: '0.1.0',
    config_version: 'cfg_7f3a2b',
  };
}

/** Nanoseconds of CPU each thread of this process has run so far. */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      out.set(tid, cpuOf(tid));
    } catch {
      // a thread that ended meanwhile
    }
  }
  return out;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Feeds RECORDS records in batches of BATCH, one batch per turn; `sink` null: only make the records (the baseline). */
async function feed(sink: ThreadedAuditWriter | null): Promise<void> {
  for (let i = 0; i < RECORDS; ) {
    for (let j = 0; j < BATCH && i < RECORDS; j++, i++) {
      const record = benchRecord(i);
      if (sink) sink.append(record);
    }
    await turn();
  }
}

interface Run {
  mainUs: number;
  threadUs: number;
  othersUs: number;
  wallMs: number;
}

async function run(baselineNs: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'omega-handover-'));
  const file = join(dir, 'omega.db');
  try {
    await (await openSqlite(`sqlite://${file}`)).destroy(); // migrated
    const before = new Set(threadCpu().keys());
    const writer = new ThreadedAuditWriter(
      { path: file, synchronous: 'NORMAL', flushIntervalMs: 200, batchSize: 500, spoolFile: join(dir, 'audit.spool'), fallback: () => { throw new Error('bench: the audit thread died'); } },
      { error: (f, m) => console.error(m, f), warn: (f, m) => console.error(m, f), debug: () => undefined },
    );
    await writer.ready;
    const fresh = [...threadCpu().keys()].filter((tid) => !before.has(tid));
    const start = threadCpu();
    const t0 = performance.now();
    await feed(writer);
    await writer.flush();
    const wallMs = performance.now() - t0;
    const end = threadCpu();
    await writer.close();
    const delta = (tid: string) => (end.get(tid) ?? 0) - (start.get(tid) ?? 0);
    const main = String(process.pid);
    // The audit thread is the thread the writer started that ran the most.
    const thread = fresh.sort((a, b) => delta(b) - delta(a))[0]!;
    let others = 0;
    for (const tid of end.keys()) if (tid !== main && tid !== thread) others += delta(tid);
    if (!existsSync(file)) throw new Error('no database');
    return { mainUs: (delta(main) - baselineNs) / RECORDS / 1000, threadUs: delta(thread) / RECORDS / 1000, othersUs: others / RECORDS / 1000, wallMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cpuOf = (tid: string) => Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);

/** Main-thread µs a record of `handle` on fresh batches, the making of the records taken off. */
async function mainCost(handle: (batch: AuditRecord[]) => void): Promise<number> {
  const me = String(process.pid);
  const pass = async (h: ((batch: AuditRecord[]) => void) | null) => {
    const c0 = cpuOf(me);
    for (let i = 0; i < RECORDS; i += BATCH) {
      const batch: AuditRecord[] = [];
      for (let j = 0; j < BATCH; j++) batch.push(benchRecord(i + j));
      h?.(batch);
      await turn();
    }
    return cpuOf(me) - c0;
  };
  await pass(handle);
  const base = await pass(null);
  return (await pass(handle)) - base;
}

async function parts(): Promise<void> {
  // Dynamic, so the bench still runs on commits from before prepared records (A/B runs).
  const columns: { prepareRecord?: (r: AuditRecord) => unknown } = await import('../src/store/audit-columns.js');
  const prepareRecord = columns.prepareRecord;
  const idle = new Worker("require('node:worker_threads').parentPort.on('message', () => {})", { eval: true });
  await new Promise((resolve) => idle.once('online', resolve));
  let bytes = 0;
  const figures = {
    'structured clone of the objects, posted': await mainCost((batch) => idle.postMessage({ t: 'records', records: batch })),
    'JSON.stringify alone': await mainCost((batch) => batch.forEach((r) => (bytes += JSON.stringify(r).length))),
    ...(prepareRecord ? { 'prepareRecord (stringify + columns), posted': await mainCost((batch) => idle.postMessage({ t: 'records', records: batch.map(prepareRecord) })) } : {}),
  };
  await idle.terminate();
  for (const [what, ns] of Object.entries(figures)) console.log(`  ${what}: ${(ns / RECORDS / 1000).toFixed(2)} µs/record`);
  if (bytes === 0) throw new Error('nothing serialised');
}

async function main(): Promise<void> {
  if (!existsSync('/proc/self/task')) throw new Error('needs Linux /proc');
  // Before the fix to close(), the writer's thread was unreferenced while closing: keep the process alive (comparable runs on older commits).
  const alive = setInterval(() => undefined, 1_000);
  const sample = benchRecord(0);
  console.log(`record: ${JSON.stringify(sample).length} bytes of JSON, ${Object.keys(sample).length} keys; ${RECORDS} records in batches of ${BATCH}, ${RUNS} runs`);
  // The cost of making the records, without any writer (taken off the main-thread figure).
  await feed(null);
  const me = String(process.pid);
  const b0 = threadCpu().get(me)!;
  await feed(null);
  const baselineNs = threadCpu().get(me)! - b0;
  console.log(`making the records: ${(baselineNs / RECORDS / 1000).toFixed(2)} µs a record (taken off)`);
  await run(baselineNs); // warm-up
  const runs: Run[] = [];
  for (let r = 0; r < RUNS; r++) {
    const x = await run(baselineNs);
    runs.push(x);
    console.log(`run ${r + 1}: main thread ${x.mainUs.toFixed(2)} µs/record, audit thread ${x.threadUs.toFixed(2)} µs/record, other threads ${x.othersUs.toFixed(2)} µs/record, ${x.wallMs.toFixed(0)} ms`);
  }
  const median = (k: keyof Run) => [...runs].sort((a, b) => a[k] - b[k])[Math.floor(runs.length / 2)]![k];
  console.log(`median: main thread ${median('mainUs').toFixed(2)} µs/record, audit thread ${median('threadUs').toFixed(2)} µs/record, other threads ${median('othersUs').toFixed(2)} µs/record`);
  console.log('main thread, piece by piece:');
  await parts();
  clearInterval(alive);
}

await main();
