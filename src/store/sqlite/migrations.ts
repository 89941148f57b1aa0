import { sql, type Kysely, type Migration } from 'kysely';

/** Forward-only migrations, applied in name order. Never edit one that has shipped. */
export const migrations: Record<string, Migration> = {
  '0001_keys_and_audit': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('agent_id', 'text', (c) => c.notNull())
        .addColumn('hint', 'text', (c) => c.notNull())
        .addColumn('created_at', 'integer', (c) => c.notNull())
        .addColumn('revoked_at', 'integer')
        .execute();
      await db.schema
        .createTable('audit_records')
        .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('decision_id', 'text', (c) => c.notNull().unique())
        .addColumn('received_at', 'integer', (c) => c.notNull())
        .addColumn('tenant_id', 'text')
        .addColumn('team_id', 'text')
        .addColumn('agent_id', 'text')
        .addColumn('key_id', 'text')
        .addColumn('endpoint', 'text', (c) => c.notNull())
        .addColumn('model_requested', 'text')
        .addColumn('model_resolved', 'text')
        .addColumn('provider', 'text')
        .addColumn('stream', 'integer', (c) => c.notNull())
        .addColumn('policy_outcome', 'text', (c) => c.notNull())
        .addColumn('risk_score', 'real', (c) => c.notNull())
        .addColumn('http_status', 'integer', (c) => c.notNull())
        .addColumn('error_code', 'text')
        .addColumn('input_tokens', 'integer')
        .addColumn('output_tokens', 'integer')
        .addColumn('cost_usd', 'real', (c) => c.notNull())
        .addColumn('record', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_tenant_time').on('audit_records').columns(['tenant_id', 'received_at']).execute();
      await db.schema.createIndex('audit_time').on('audit_records').column('received_at').execute();
    },
  },
  '0002_review_items': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('review_items')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('decision_id', 'text', (c) => c.notNull())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'integer', (c) => c.notNull())
        .addColumn('decided_at', 'integer')
        .addColumn('item', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('review_status_time').on('review_items').columns(['status', 'created_at']).execute();
      await db.schema.createIndex('review_tenant_time').on('review_items').columns(['tenant_id', 'created_at']).execute();
    },
  },
  '0003_audit_hash_chain': {
    async up(db: Kysely<unknown>) {
      // SQLite cannot drop the UNIQUE on decision_id (strict mode writes two rows per decision:
      // `decision` before forwarding, `request` at the end), so the table is rebuilt. Rows
      // from before get their chain position here and their hashes from the sink at start.
      await sql`create table audit_records_v3 (
        seq integer primary key autoincrement,
        decision_id text not null,
        received_at integer not null,
        tenant_id text, team_id text, agent_id text, key_id text,
        endpoint text not null,
        model_requested text, model_resolved text, provider text,
        stream integer not null,
        policy_outcome text not null,
        risk_score real not null,
        http_status integer not null,
        error_code text,
        input_tokens integer, output_tokens integer,
        cost_usd real not null,
        record text not null,
        kind text not null default 'request',
        chain text not null,
        chain_seq integer not null,
        prev_hash text not null default '',
        record_hash text not null default ''
      )`.execute(db);
      await sql`insert into audit_records_v3 (seq, decision_id, received_at, tenant_id, team_id, agent_id, key_id, endpoint, model_requested, model_resolved, provider, stream, policy_outcome, risk_score, http_status, error_code, input_tokens, output_tokens, cost_usd, record, kind, chain, chain_seq)
        select seq, decision_id, received_at, tenant_id, team_id, agent_id, key_id, endpoint, model_requested, model_resolved, provider, stream, policy_outcome, risk_score, http_status, error_code, input_tokens, output_tokens, cost_usd, record, 'request',
          coalesce(tenant_id, '_'), row_number() over (partition by coalesce(tenant_id, '_') order by seq)
        from audit_records`.execute(db);
      await sql`drop table audit_records`.execute(db);
      await sql`alter table audit_records_v3 rename to audit_records`.execute(db);
      await db.schema.createIndex('audit_tenant_time').on('audit_records').columns(['tenant_id', 'received_at']).execute();
      await db.schema.createIndex('audit_time').on('audit_records').column('received_at').execute();
      await db.schema.createIndex('audit_chain_seq').on('audit_records').columns(['chain', 'chain_seq']).unique().execute();
      await db.schema.createIndex('audit_decision').on('audit_records').column('decision_id').execute();
    },
  },
  '0004_policy_versions': {
    async up(db: Kysely<unknown>) {
      // Policies replaced through the admin API, every version kept; the newest per name wins at start.
      await db.schema
        .createTable('policy_versions')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('created_at', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('policy_versions_name').on('policy_versions').columns(['name', 'id']).execute();
    },
  },
  '0005_audit_budget_reserved': {
    async up(db: Kysely<unknown>) {
      // Budget seeding counts a forwarded request whose final record was lost (kill -9) at the
      // worst case it held: its decision row must say how much that was.
      await sql`alter table audit_records add column budget_reserved_usd real not null default 0`.execute(db);
      await sql`update audit_records set budget_reserved_usd = coalesce(json_extract(record, '$.budget_reserved_usd'), 0) where kind != 'retention'`.execute(db);
    },
  },
  '0006_responses': {
    async up(db: Kysely<unknown>) {
      // Conversation state of the Responses API (previous_response_id, GET/DELETE /v1/responses/{id}).
      await db.schema
        .createTable('responses')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'integer', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('native', 'integer', (c) => c.notNull())
        .addColumn('input_items', 'text', (c) => c.notNull())
        .addColumn('output_items', 'text', (c) => c.notNull())
        .addColumn('response', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('responses_expiry').on('responses').column('expires_at').execute();
    },
  },
  '0007_review_owner': {
    async up(db: Kysely<unknown>) {
      // Each replica owns its holds: at start it fails only its own (items from before stay ownerless and are failed by any).
      await sql`alter table review_items add column owner text`.execute(db);
      await db.schema.createIndex('review_pending_owner').on('review_items').columns(['status', 'mode', 'owner']).execute();
    },
  },
  '0008_audit_latency': {
    async up(db: Kysely<unknown>) {
      // The admin overview's latency percentiles are computed in SQL from this column; admin queries filter by kind and time.
      await sql`alter table audit_records add column total_latency_ms real`.execute(db);
      await sql`update audit_records set total_latency_ms = json_extract(record, '$.total_latency_ms') where kind != 'retention'`.execute(db);
      await db.schema.createIndex('audit_kind_time').on('audit_records').columns(['kind', 'received_at']).execute();
    },
  },
  '0009_runtime_config': {
    async up(db: Kysely<unknown>) {
      // Entities and provider credentials of the admin API, and key expiry (issue 14).
      await sql`alter table api_keys add column expires_at integer`.execute(db);
      await sql`create table config_entities (
        kind text not null,
        id text not null,
        tenant_id text,
        body text not null,
        actor text not null,
        created_at integer not null,
        updated_at integer not null,
        revision integer not null,
        primary key (kind, id)
      )`.execute(db);
      await sql`create table provider_credentials (
        provider text primary key,
        sealed text not null,
        actor text not null,
        updated_at integer not null,
        revision integer not null
      )`.execute(db);
      await sql`create table config_revision (id integer primary key, value integer not null)`.execute(db);
      await sql`insert into config_revision (id, value) values (1, 0)`.execute(db);
    },
  },
  '0010_admin_sessions': {
    async up(db: Kysely<unknown>) {
      // Console sign-in sessions: only a hash of the session id; idle_expires_at (<= expires_at) says when one ends.
      await db.schema
        .createTable('admin_sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('principal_id', 'text', (c) => c.notNull())
        .addColumn('principal_kind', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('tenant', 'text')
        .addColumn('name', 'text')
        .addColumn('created_at', 'integer', (c) => c.notNull())
        .addColumn('last_seen_at', 'integer', (c) => c.notNull())
        .addColumn('idle_expires_at', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('admin_sessions_expiry').on('admin_sessions').column('idle_expires_at').execute();
    },
  },
};
