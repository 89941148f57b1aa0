import type { Kysely, Migration } from 'kysely';

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
};
