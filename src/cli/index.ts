#!/usr/bin/env node
/** The `omega` command: serve, validate configuration, manage runtime API keys. */
import { Command, InvalidArgumentError } from 'commander';
import { generateApiKey, hashApiKey, keyHint } from '../auth/api-keys.js';
import { KeyDirectory } from '../auth/directory.js';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { configPathFrom, deploymentFileFrom, GATEWAY_VERSION, serve } from '../main.js';
import { openStores } from '../store/open-stores.js';
import { configJsonSchema } from '../config/json-schema.js';
import { parseSince, spendReport } from '../audit/spend.js';
import { createWriteStream, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { request } from 'undici';
import { once } from 'node:events';
import { csvHeader, csvLine, exportAudit } from '../audit/query.js';
import { applyRetention } from '../audit/retention.js';
import { verifyAudit } from '../audit/verify.js';
import { policyTest, type PolicyTestOptions } from './policy-test.js';

const program = new Command('omega').description('OmegaEngine Gateway').version(GATEWAY_VERSION);

const port = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port number 0–65535');
  return n;
};

const workerCount = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new InvalidArgumentError('a whole number 1–256');
  return n;
};

program
  .command('serve')
  .description('run the gateway')
  .option('-c, --config <file>', 'deployment file (default: $OMEGA_CONFIG, else the shipped example)')
  .option('-p, --port <n>', 'port to listen on (overrides server.port)', port)
  .option('-w, --workers <n>', 'run n gateway worker processes on the port (needs redis.url); a crashed worker is restarted', workerCount)
  .action(async (opts: { config?: string; port?: number; workers?: number }) => {
    await serve(opts);
  });

const config = program.command('config').description('check the deployment file');
config
  .command('validate <file>')
  .description('validate a deployment file; exits 1 and lists every problem when invalid')
  .action((file: string) => {
    const loaded = loadConfigFile(file);
    const providers = Object.keys(loaded.providers).length;
    const models = Object.keys(loaded.models).length;
    const tenants = Object.keys(loaded.tenants).length;
    console.log(`${loaded.source}: valid (version ${loaded.version}; ${providers} providers, ${models} models, ${tenants} tenants)`);
    for (const [provider, variable] of Object.entries(loaded.missingCredentials)) {
      console.log(`  note: provider "${provider}" has no credential (${variable} is not set)`);
    }
  });
config
  .command('apply <file>')
  .description('validate FILE, install it as the deployment file and make the running gateways load it')
  .option('-c, --config <file>', 'the deployment file the gateways run with, replaced by FILE (default: $OMEGA_CONFIG, else FILE itself)')
  .option('--url <url>', 'a running gateway (e.g. http://127.0.0.1:8080): asked to reload now, which tells every replica (POST /admin/v1/config/reload)')
  .option('--token <token>', 'admin token for --url (e.g. --token "$OMEGA_ADMIN_TOKEN")')
  .action(async (file: string, opts: { config?: string; url?: string; token?: string }) => {
    const loaded = loadConfigFile(file);
    const target = resolvePath(deploymentFileFrom(opts.config, file));
    if (target !== loaded.source) {
      // Written beside the target and renamed over it: a watching gateway never reads half a file.
      const temporary = `${target}.${process.pid}.tmp`;
      writeFileSync(temporary, readFileSync(loaded.source));
      renameSync(temporary, target);
    }
    console.log(`${target}: valid (version ${loaded.version}); gateways watching it reload within a second (or send SIGHUP)`);
    if (!opts.url) return;
    if (!opts.token) fail('--url needs --token (an admin token)');
    const res = await request(new URL('/admin/v1/config/reload', opts.url), { method: 'POST', headers: { authorization: `Bearer ${opts.token}` } });
    const body = (await res.body.json()) as { applied?: boolean; changed?: boolean; version?: string; problems?: string[]; error?: { message: string } };
    if (res.statusCode !== 200) fail(`the gateway refused the reload (${res.statusCode}): ${body.error?.message ?? 'no details'}`);
    if (!body.applied) fail(`the gateway kept its configuration (version ${body.version}):\n${(body.problems ?? []).map((p) => `  - ${p}`).join('\n')}`);
    console.log(`the gateway at ${opts.url} runs version ${body.version}${body.changed ? '' : ' (unchanged)'}; the other replicas were told to reload`);
  });
config
  .command('schema')
  .description('print the JSON Schema of the deployment file')
  .action(() => console.log(JSON.stringify(configJsonSchema(), null, 2)));

const keys = program.command('keys').description('manage runtime API keys (stored hashed)');
const withConfig = (cmd: Command) => cmd.option('-c, --config <file>', 'deployment file (for storage.url and the tenant directory)');

withConfig(keys.command('create'))
  .description('create a key for an agent; prints the key once')
  .requiredOption('--tenant <id>', 'tenant id')
  .requiredOption('--agent <id>', 'agent id (declared under a team of the tenant)')
  .action(async (opts: { tenant: string; agent: string; config?: string }) => {
    const cfg = loadConfigFile(configPathFrom(opts.config));
    const stores = await openStores(cfg.storage.url, { poolSize: cfg.storage.pool_size });
    try {
      const store = stores.keys;
      const id = `key_${generateApiKey().slice(4, 16)}`;
      if (!new KeyDirectory(cfg, store).principalFor(opts.tenant, opts.agent, id)) {
        fail(`no agent "${opts.agent}" in tenant "${opts.tenant}" in ${cfg.source}`);
      }
      const key = generateApiKey();
      await store.create({ id, hash: hashApiKey(key), tenantId: opts.tenant, agentId: opts.agent, hint: keyHint(key), createdAt: new Date(), revokedAt: null, expiresAt: null });
      console.log(`key id: ${id}\nkey:    ${key}\nStore it now: it is not shown again (only its hash is kept).`);
    } finally {
      await stores.close();
    }
  });

withConfig(keys.command('list'))
  .description('list runtime keys (never the secrets)')
  .option('--tenant <id>', 'only this tenant')
  .action(async (opts: { tenant?: string; config?: string }) => {
    const cfg = loadConfigFile(configPathFrom(opts.config));
    const stores = await openStores(cfg.storage.url, { poolSize: cfg.storage.pool_size });
    try {
      const rows = await stores.keys.list({ tenantId: opts.tenant });
      for (const k of rows) {
        const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
        console.log(`${k.id}\t${k.tenantId}/${k.agentId}\t${k.hint}\tcreated ${k.createdAt.toISOString()}\t${state}`);
      }
      if (rows.length === 0) console.log('no runtime keys');
    } finally {
      await stores.close();
    }
  });

withConfig(keys.command('revoke <keyId>'))
  .description('revoke a runtime key (at once on every replica with redis.url set, else within keys.cache_ttl)')
  .action(async (keyId: string, opts: { config?: string }) => {
    const cfg = loadConfigFile(configPathFrom(opts.config));
    const stores = await openStores(cfg.storage.url, { poolSize: cfg.storage.pool_size });
    try {
      if (!(await stores.keys.revoke(keyId))) fail(`no active runtime key "${keyId}"`);
      console.log(`revoked ${keyId}`);
    } finally {
      await stores.close();
    }
    if (cfg.redis.url) console.log(await announceRevocation(cfg.redis.url, cfg.redis.key_prefix, keyId, cfg.keys.cache_ttl));
  });

keys
  .command('hash <key>')
  .description('print the sha256 form of a key, for `hash:` in the deployment file')
  .action((key: string) => console.log(hashApiKey(key)));

program
  .command('spend')
  .description('spend per day, tenant, team, agent and model, from the audit trail')
  .option('-c, --config <file>', 'deployment file (for storage.url and budgets.timezone)')
  .option('--tenant <id>', 'only this tenant')
  .option('--since <when>', 'e.g. 7d, 24h, 30m or a date', '7d')
  .option('--json', 'print JSON instead of a table')
  .action(async (opts: { config?: string; tenant?: string; since: string; json?: boolean }) => {
    const cfg = loadConfigFile(configPathFrom(opts.config));
    const stores = await openStores(cfg.storage.url, { poolSize: cfg.storage.pool_size });
    try {
      const rows = await spendReport(stores.auditQuery, { tenantId: opts.tenant, since: parseSince(opts.since), timeZone: cfg.budgets.timezone });
      if (opts.json) return console.log(JSON.stringify(rows, null, 2));
      console.log(['day', 'tenant', 'team', 'agent', 'model', 'requests', 'input_tok', 'output_tok', 'cost_usd'].join('\t'));
      for (const r of rows) console.log([r.day, r.tenant_id, r.team_id, r.agent_id, r.model, r.requests, r.input_tokens, r.output_tokens, r.cost_usd.toFixed(6)].join('\t'));
      const total = rows.reduce((s, r) => s + r.cost_usd, 0);
      console.log(`total\t\t\t\t\t${rows.reduce((s, r) => s + r.requests, 0)}\t\t\t${total.toFixed(6)}`);
    } finally {
      await stores.close();
    }
  });

const audit = program.command('audit').description('the audit trail');
withConfig(audit.command('verify'))
  .description("check the tenants' hash chains; exits 1 and names the first broken link")
  .option('--tenant <id>', 'only this tenant')
  .action(async (opts: { config?: string; tenant?: string }) => {
    const cfg = loadConfigFile(configPathFrom(opts.config));
    const stores = await openStores(cfg.storage.url, { poolSize: cfg.storage.pool_size });
    try {
      const verdicts = await verifyAudit(stores.auditQuery, opts.tenant);
      let broken = false;
      for (const v of verdicts) {
        if (v.broken) {
          broken = true;
          console.log(`${v.chain}: BROKEN at position ${v.broken.chain_seq} (decision ${v.broken.decision_id}): ${v.broken.reason}; ${v.records} records verified before it`);
        } else {
          console.log(`${v.chain}: ok, ${v.records} records, head ${v.head_seq} ${v.head_hash}`);
        }
      }
      if (verdicts.length === 0) console.log('no audit records');
      if (broken) process.exitCode = 1;
    } finally {
      await stores.close();
    }
  });

withConfig(audit.command('export'))
  .description('write audit records as JSON lines or CSV, oldest first')
  .option('--tenant <id>', 'only this tenant')
  .option('--since <when>', 'e.g. 7d, 24h or a date')
  .option('--until <when>', 'e.g. a date')
  .option('--format <fmt>', 'jsonl or csv', 'jsonl')
  .option('--all-kinds', "include strict mode's decision rows")
  .option('-o, --out <file>', 'write to a file instead of stdout')
  .action(async (opts: { config?: string; tenant?: string; since?: string; until?: string; format: string; allKinds?: boolean; out?: string }) => {
    if (opts.format !== 'jsonl' && opts.format !== 'csv') fail('--format must be jsonl or csv');
    const cfg = loadConfigFile(configPathFrom(opts.config));
    const stores = await openStores(cfg.storage.url, { poolSize: cfg.storage.pool_size });
    const out = opts.out ? createWriteStream(opts.out) : process.stdout;
    try {
      let fields: string[] | undefined;
      let count = 0;
      const filter = { tenantId: opts.tenant, since: opts.since ? parseSince(opts.since) : undefined, until: opts.until ? parseSince(opts.until) : undefined, allKinds: opts.allKinds };
      for await (const record of exportAudit(stores.auditQuery, filter)) {
        let line: string;
        if (opts.format === 'jsonl') line = JSON.stringify(record);
        else {
          if (!fields) {
            fields = Object.keys(record);
            if (!out.write(csvHeader(fields) + '\n')) await once(out, 'drain');
          }
          line = csvLine(record as unknown as Record<string, unknown>, fields);
        }
        if (!out.write(line + '\n')) await once(out, 'drain');
        count++;
      }
      if (opts.out) {
        await new Promise<void>((resolve) => (out as ReturnType<typeof createWriteStream>).end(resolve));
        console.error(`exported ${count} records to ${opts.out}`);
      }
    } finally {
      await stores.close();
    }
  });

withConfig(audit.command('prune'))
  .description("apply the configured retention now (each deletion is recorded in the tenant's chain)")
  .action(async (opts: { config?: string }) => {
    const cfg = loadConfigFile(configPathFrom(opts.config));
    const stores = await openStores(cfg.storage.url, { poolSize: cfg.storage.pool_size });
    try {
      const events = await applyRetention(cfg, stores.audit, 'cli');
      for (const e of events) console.log(`${e.chain}: deleted ${e.deleted_count} records before ${e.deleted_before}`);
      if (events.length === 0) console.log('nothing to delete');
    } finally {
      await stores.close();
    }
  });

const policy = program.command('policy').description('policies');
policy
  .command('test <file>')
  .description('print the decision, risk score and matched rules for a request, sending nothing')
  .requiredOption('--request <json>', 'a chat or embeddings request body (JSON file)')
  .option('--tenant <id>', 'judge as this tenant (its policy, or its agent’s)')
  .option('--agent <id>', 'judge as this agent of the tenant')
  .option('--policy <name>', 'judge with this policy directly')
  .option('--expect <outcome>', 'exit 1 unless the outcome is ALLOW, REVIEW or BLOCK')
  .action((file: string, opts: PolicyTestOptions & { expect?: string }) => {
    const { policy: name, result } = policyTest(file, opts);
    const outcome = result?.outcome ?? 'ALLOW';
    console.log(
      JSON.stringify(
        result
          ? { policy: name, version: result.policyVersion, outcome, risk_score: result.riskScore, risk_factors: result.riskFactors, matched_rules: result.matchedRules, redactions: result.redactions, shadow_outcome: result.shadowOutcome, signals: result.signals, review: outcome === 'REVIEW' ? { mode: result.reviewMode, timeout_ms: result.reviewTimeoutMs, on_timeout: result.reviewOnTimeout } : undefined, errors: result.errors }
          : { policy: null, outcome, risk_score: 0, note: 'no policy applies: the request would be allowed' },
        null,
        2,
      ),
    );
    if (opts.expect && opts.expect.toUpperCase() !== outcome) fail(`expected ${opts.expect.toUpperCase()}, got ${outcome}`);
  });

/** Tells running replicas to drop the key from their caches; the cache TTL bounds it when Redis is unreachable. */
async function announceRevocation(url: string, keyPrefix: string, keyId: string, cacheTtlMs: number): Promise<string> {
  try {
    const { RedisSignalBus } = await import('../store/redis/signals.js');
    const bus = await RedisSignalBus.open({ url, keyPrefix });
    try {
      await bus.publish('key.revoked', JSON.stringify({ id: keyId }));
    } finally {
      await bus.close();
    }
    return 'running replicas were told at once';
  } catch (err) {
    return `note: could not reach redis (${(err as Error).message}); running replicas stop accepting the key within keys.cache_ttl (${cacheTtlMs} ms)`;
  }
}

function fail(message: string): never {
  console.error(`omega: ${message}`);
  process.exit(1);
}

program.parseAsync().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  console.error(err);
  process.exit(1);
});
