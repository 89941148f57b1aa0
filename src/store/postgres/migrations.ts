import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Forward-only PostgreSQL migrations, applied in name order. Never edit one that has shipped.
 * The schema mirrors SQLite's after its migrations, plus `audit_chain_heads`. Epoch ms and
 * positions are bigint; the audit record stays `text`, since its exact bytes are hashed.
 */
export const postgresMigrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await sql`create table api_keys (
        id text primary key,
        hash text not null unique,
        tenant_id text not null,
        agent_id text not null,
        hint text not null,
        created_at bigint not null,
        revoked_at bigint
      )`.execute(db);
      await sql`create table audit_records (
        seq bigserial primary key,
        decision_id text not null,
        received_at bigint not null,
        tenant_id text, team_id text, agent_id text, key_id text,
        endpoint text not null,
        model_requested text, model_resolved text, provider text,
        stream integer not null,
        policy_outcome text not null,
        risk_score double precision not null,
        http_status integer not null,
        error_code text,
        input_tokens bigint, output_tokens bigint,
        cost_usd double precision not null,
        record text not null,
        kind text not null default 'request',
        chain text not null,
        chain_seq bigint not null,
        prev_hash text not null,
        record_hash text not null
      )`.execute(db);
      await sql`create index audit_tenant_time on audit_records (tenant_id, received_at)`.execute(db);
      await sql`create index audit_time on audit_records (received_at)`.execute(db);
      await sql`create unique index audit_chain_seq on audit_records (chain, chain_seq)`.execute(db);
      await sql`create index audit_decision on audit_records (decision_id)`.execute(db);
      await sql`create table audit_chain_heads (
        chain text primary key,
        seq bigint not null,
        hash text not null
      )`.execute(db);
      await sql`create table review_items (
        id text primary key,
        decision_id text not null,
        tenant_id text not null,
        mode text not null,
        status text not null,
        created_at bigint not null,
        decided_at bigint,
        item text not null
      )`.execute(db);
      await sql`create index review_status_time on review_items (status, created_at)`.execute(db);
      await sql`create index review_tenant_time on review_items (tenant_id, created_at)`.execute(db);
      await sql`create table policy_versions (
        id bigserial primary key,
        name text not null,
        version text not null,
        config text not null,
        actor text not null,
        created_at bigint not null
      )`.execute(db);
      await sql`create index policy_versions_name on policy_versions (name, id)`.execute(db);
    },
  },
  '0002_audit_budget_reserved': {
    async up(db: Kysely<unknown>) {
      // Budget seeding counts a forwarded request whose final record was lost (kill -9) at the
      // worst case it held: its decision row must say how much that was (as SQLite's 0005).
      await sql`alter table audit_records add column budget_reserved_usd double precision not null default 0`.execute(db);
      await sql`update audit_records set budget_reserved_usd = coalesce((record::jsonb ->> 'budget_reserved_usd')::double precision, 0) where kind != 'retention'`.execute(db);
    },
  },
  '0003_responses': {
    async up(db: Kysely<unknown>) {
      // Conversation state of the Responses API (as SQLite's 0006); items and response as JSON text.
      await sql`create table responses (
        id text primary key,
        tenant_id text not null,
        created_at bigint not null,
        expires_at bigint not null,
        model text not null,
        provider text not null,
        native boolean not null,
        input_items text not null,
        output_items text not null,
        response text not null
      )`.execute(db);
      await sql`create index responses_expiry on responses (expires_at)`.execute(db);
    },
  },
  '0004_review_owner': {
    async up(db: Kysely<unknown>) {
      // Each replica owns its holds (as SQLite's 0007): a restart fails only its own.
      await sql`alter table review_items add column owner text`.execute(db);
      await sql`create index review_items_pending_owner on review_items (status, owner)`.execute(db);
    },
  },
  '0005_audit_latency': {
    async up(db: Kysely<unknown>) {
      // The admin overview's latency percentiles are computed in SQL from this column; admin queries filter by kind and time.
      await sql`alter table audit_records add column total_latency_ms double precision`.execute(db);
      await sql`update audit_records set total_latency_ms = (record::jsonb ->> 'total_latency_ms')::double precision where kind <> 'retention'`.execute(db);
      await sql`create index audit_kind_time on audit_records (kind, received_at)`.execute(db);
    },
  },
  '0006_runtime_config': {
    async up(db: Kysely<unknown>) {
      // Entities and provider credentials of the admin API, and key expiry (as SQLite's 0009).
      await sql`alter table api_keys add column expires_at bigint`.execute(db);
      await sql`create table config_entities (
        kind text not null,
        id text not null,
        tenant_id text,
        body text not null,
        actor text not null,
        created_at bigint not null,
        updated_at bigint not null,
        revision bigint not null,
        primary key (kind, id)
      )`.execute(db);
      await sql`create table provider_credentials (
        provider text primary key,
        sealed text not null,
        actor text not null,
        updated_at bigint not null,
        revision bigint not null
      )`.execute(db);
      await sql`create table config_revision (id integer primary key, value bigint not null)`.execute(db);
      await sql`insert into config_revision (id, value) values (1, 0)`.execute(db);
    },
  },
  '0007_admin_sessions': {
    async up(db: Kysely<unknown>) {
      // Console sign-in sessions (as SQLite's 0010): only a hash of the session id.
      await sql`create table admin_sessions (
        id_hash text primary key,
        principal_id text not null,
        principal_kind text not null,
        role text not null,
        tenant text,
        name text,
        created_at bigint not null,
        last_seen_at bigint not null,
        idle_expires_at bigint not null,
        expires_at bigint not null
      )`.execute(db);
      await sql`create index admin_sessions_expiry on admin_sessions (idle_expires_at)`.execute(db);
    },
  },
};
