#!/usr/bin/env node
/** The `omega` command: serve, validate configuration, manage runtime API keys. */
import { Command, InvalidArgumentError } from 'commander';
import { generateApiKey, hashApiKey, keyHint } from '../auth/api-keys.js';
import { KeyDirectory } from '../auth/directory.js';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { configPathFrom, GATEWAY_VERSION, serve } from '../main.js';
import { openSqlite } from '../store/sqlite/database.js';
import { SqliteKeyStore } from '../store/sqlite/key-store.js';
import { configJsonSchema } from '../config/json-schema.js';

const program = new Command('omega').description('OmegaEngine Gateway').version(GATEWAY_VERSION);

const port = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port number 0–65535');
  return n;
};

program
  .command('serve')
  .description('run the gateway')
  .option('-c, --config <file>', 'deployment file (default: $OMEGA_CONFIG, else the shipped example)')
  .option('-p, --port <n>', 'port to listen on (overrides server.port)', port)
  .action(async (opts: { config?: string; port?: number }) => {
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
    const db = await openSqlite(cfg.storage.url);
    try {
      const store = new SqliteKeyStore(db);
      const id = `key_${generateApiKey().slice(4, 16)}`;
      if (!new KeyDirectory(cfg, store).principalFor(opts.tenant, opts.agent, id)) {
        fail(`no agent "${opts.agent}" in tenant "${opts.tenant}" in ${cfg.source}`);
      }
      const key = generateApiKey();
      await store.create({ id, hash: hashApiKey(key), tenantId: opts.tenant, agentId: opts.agent, hint: keyHint(key), createdAt: new Date(), revokedAt: null });
      console.log(`key id: ${id}\nkey:    ${key}\nStore it now: it is not shown again (only its hash is kept).`);
    } finally {
      await db.destroy();
    }
  });

withConfig(keys.command('list'))
  .description('list runtime keys (never the secrets)')
  .option('--tenant <id>', 'only this tenant')
  .action(async (opts: { tenant?: string; config?: string }) => {
    const cfg = loadConfigFile(configPathFrom(opts.config));
    const db = await openSqlite(cfg.storage.url);
    try {
      const rows = await new SqliteKeyStore(db).list({ tenantId: opts.tenant });
      for (const k of rows) {
        const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
        console.log(`${k.id}\t${k.tenantId}/${k.agentId}\t${k.hint}\tcreated ${k.createdAt.toISOString()}\t${state}`);
      }
      if (rows.length === 0) console.log('no runtime keys');
    } finally {
      await db.destroy();
    }
  });

withConfig(keys.command('revoke <keyId>'))
  .description('revoke a runtime key (takes effect within keys.cache_ttl)')
  .action(async (keyId: string, opts: { config?: string }) => {
    const cfg = loadConfigFile(configPathFrom(opts.config));
    const db = await openSqlite(cfg.storage.url);
    try {
      if (!(await new SqliteKeyStore(db).revoke(keyId))) fail(`no active runtime key "${keyId}"`);
      console.log(`revoked ${keyId}`);
    } finally {
      await db.destroy();
    }
  });

keys
  .command('hash <key>')
  .description('print the sha256 form of a key, for `hash:` in the deployment file')
  .action((key: string) => console.log(hashApiKey(key)));

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
