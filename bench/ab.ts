/**
 * `tsx bench/ab.ts`: A/B of two gateway builds or configurations against the bare proxy, in one
 * run, interleaved round by round (bare, A, B, bare, A, B, …) so that load from other work on the
 * machine falls on both alike. For judging one change on a busy machine; `npm run bench` is the
 * full, single-gateway report.
 *
 *   --a DIR[:VARIANT] --b DIR[:VARIANT]   a built gateway (e.g. dist, or a copy of it made before a
 *                                          change) and a configuration variant of bench/omega.bench.yaml:
 *                                          audit-main-thread, audit-thread, audit-strict, no-policy, no-tokenizer,
 *                                          no-limits, ungoverned (all three removed; audit stays)
 *   --rounds N (3) --duration S (5) --connections C (50) --stream --messages
 *   --sequential N (0: off)                also time N requests one at a time (added vs direct)
 *   --profile DIR                          run B with --cpu-prof into DIR
 *   --warmup S (3)                         load each gateway this long first (JIT, heap growth), not counted
 *   --b-env NAME[=V][,…]                   extra environment for B (e.g. switches in a patched copy of a build)
 * Prints each round and the medians: req/s, gateway/bare ratios, RSS after start and after load.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { chat, hasTaskset, load, loadAverage, messages, rssMb, sequential, start, type Proc } from './harness.js';

const { values } = parseArgs({
  options: {
    a: { type: 'string', default: 'dist' },
    b: { type: 'string', default: 'dist' },
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    sequential: { type: 'string', default: '0' },
    stream: { type: 'boolean', default: false },
    messages: { type: 'boolean', default: false },
    profile: { type: 'string' },
    warmup: { type: 'string', default: '3' },
    'b-env': { type: 'string' },
  },
});

/** Edits of bench/omega.bench.yaml, by name. */
const VARIANTS: Record<string, (yaml: string) => string> = {
  '': (y) => y,
  'audit-main-thread': (y) => y.replace('audit:\n', 'audit:\n  thread: false\n'),
  'audit-thread': (y) => y.replace('audit:\n', 'audit:\n  thread: true\n'),
  'audit-strict': (y) => y.replace('${BENCH_AUDIT_DURABILITY:-batched}', 'strict'),
  // What each governance feature costs: the bench configuration without it.
  'no-policy': (y) => y.replace('    policy: bench\n', ''),
  'no-tokenizer': (y) => y.replaceAll('model: gpt-4o-mini', 'model: bench-model'),
  'no-limits': (y) => y.replace(/ {12}budget: .*\n {12}rate_limits: .*\n/, ''),
  ungoverned: (y) => ungoverned(y),
};

/** No policy, no tokenizer, no budget or quota: what the gateway costs with nothing to enforce (audit stays on). */
function ungoverned(y: string): string {
  let out = y;
  for (const v of ['no-policy', 'no-tokenizer', 'no-limits']) out = VARIANTS[v]!(out);
  return out;
}

if (hasTaskset) spawnSync('taskset', ['-cp', '1', String(process.pid)]);
/** CPU seconds used so far by a process's main thread (its first task) and by the whole process (all threads). */
function cpu(pid: number): { main: number; all: number } {
  const ticks = (stat: string) => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100/s)
  };
  return { main: ticks(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8')), all: ticks(readFileSync(`/proc/${pid}/stat`, 'utf8')) };
}

/** Closed-loop load, with the CPU each request cost the process: µs of main-thread and of all-thread time. */
async function measured(p: Proc, shape: ReturnType<typeof chat>, connections: number, duration: number) {
  const before = cpu(p.child.pid!);
  const r = await load(p.url, shape, connections, duration);
  const after = cpu(p.child.pid!);
  const requests = r.rps * duration;
  return { ...r, mainUs: ((after.main - before.main) / requests) * 1e6, allUs: ((after.all - before.all) / requests) * 1e6 };
}

const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
const f = (n: number, d = 2) => n.toFixed(d);

async function gateway(spec: string, upstream: string, dataDir: string, profileDir?: string, extraEnv: Record<string, string> = {}): Promise<Proc> {
  const [dist, variant = ''] = spec.split(':');
  const edit = VARIANTS[variant];
  if (!edit) throw new Error(`unknown variant "${variant}" (${Object.keys(VARIANTS).filter(Boolean).join(', ')})`);
  const config = join(dataDir, 'omega.yaml');
  writeFileSync(config, edit(readFileSync('bench/omega.bench.yaml', 'utf8')));
  const prof = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  return start(0, [...prof, join(dist!, 'cli/index.js'), 'serve', '--config', config], { BENCH_UPSTREAM: upstream, BENCH_DATA_DIR: dataDir, OMEGA_LOG_LEVEL: 'warn', ...extraEnv });
}

async function main(): Promise<void> {
  const rounds = Number(values.rounds);
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const n = Number(values.sequential);
  const shape = values.messages ? messages('claude-bench', values.stream) : chat('bench', values.stream);
  const dirs = [mkdtempSync(join(tmpdir(), 'omega-ab-a-')), mkdtempSync(join(tmpdir(), 'omega-ab-b-'))];
  const procs: Proc[] = [];
  try {
    const upstream = await start(1, ['--import', 'tsx', 'bench/upstream.ts']);
    procs.push(upstream);
    const bare = await start(0, ['--import', 'tsx', 'bench/bare-proxy.ts', upstream.url]);
    procs.push(bare);
    const a = await gateway(values.a!, upstream.url, dirs[0]!);
    procs.push(a);
    const b = await gateway(values.b!, upstream.url, dirs[1]!, values.profile, values['b-env'] ? Object.fromEntries(values['b-env'].split(',').map((kv) => [kv.split('=')[0]!, kv.split('=')[1] ?? '1'])) : {});
    procs.push(b);
    await new Promise((r) => setTimeout(r, 1000));
    const rssStart = { a: rssMb(a.child.pid!), b: rssMb(b.child.pid!) };
    console.log(`A = ${values.a}, B = ${values.b}; ${values.messages ? '/v1/messages' : 'chat'}${values.stream ? ' stream' : ' JSON'}, ${connections} connections, ${duration} s × ${rounds} rounds; RSS after start A ${f(rssStart.a, 0)} MB, B ${f(rssStart.b, 0)} MB`);
    // A cold process costs more per request (JIT, heap sizing): both are warmed alike before any round counts.
    for (const p of [bare, a, b]) if (Number(values.warmup) > 0) await load(p.url, shape, connections, Number(values.warmup));
    const ratios = { a: [] as number[], b: [] as number[] };
    const cpuUs = { a: [] as number[], b: [] as number[], aAll: [] as number[], bAll: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      const r = { bare: await measured(bare, shape, connections, duration), a: await measured(a, shape, connections, duration), b: await measured(b, shape, connections, duration) };
      cpuUs.a.push(r.a.mainUs);
      cpuUs.b.push(r.b.mainUs);
      cpuUs.aAll.push(r.a.allUs);
      cpuUs.bAll.push(r.b.allUs);
      ratios.a.push(r.a.rps / r.bare.rps);
      ratios.b.push(r.b.rps / r.bare.rps);
      console.log(`  round ${i + 1}: bare ${f(r.bare.rps, 0)}  A ${f(r.a.rps, 0)} (${f(r.a.rps / r.bare.rps)})  B ${f(r.b.rps, 0)} (${f(r.b.rps / r.bare.rps)})  CPU µs/request main thread (all threads): bare ${f(r.bare.mainUs, 0)}, A ${f(r.a.mainUs, 0)} (${f(r.a.allUs, 0)}), B ${f(r.b.mainUs, 0)} (${f(r.b.allUs, 0)})  errors ${r.a.errors}/${r.b.errors}  load ${f(loadAverage())}`);
    }
    console.log(`  median CPU µs per request, main thread (all threads): A ${f(median(cpuUs.a), 0)} (${f(median(cpuUs.aAll), 0)}), B ${f(median(cpuUs.b), 0)} (${f(median(cpuUs.bAll), 0)})`);
    console.log(`  median ratio to bare: A ${f(median(ratios.a))}, B ${f(median(ratios.b))}; RSS after load A ${f(rssMb(a.child.pid!), 0)} MB, B ${f(rssMb(b.child.pid!), 0)} MB`);
    if (n > 0) {
      const direct = await sequential(upstream.url, shape, n);
      for (const [name, p] of [['bare', bare], ['A', a], ['B', b]] as const) {
        const r = await sequential(p.url, shape, n);
        console.log(`  1 in flight ${name}: p50 ${f(r.p50, 3)} p99 ${f(r.p99, 3)} ms; added vs direct p50 ${f(r.p50 - direct.p50, 3)} p99 ${f(r.p99 - direct.p99, 3)} (load ${f(loadAverage())})`);
      }
    }
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1500));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

await main();
