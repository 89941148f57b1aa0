/**
 * Every store interface's conformance suite, on the real PostgreSQL (a fresh database per test).
 * Under CI=true this always runs; elsewhere it is skipped when the server is unreachable.
 */
import { describe } from 'vitest';
import { auditQueryConformance } from './audit-query.conformance.js';
import { auditSinkConformance } from './audit-sink.conformance.js';
import { openPostgresBackend, skipPostgres } from './backends.js';
import { configStoreConformance } from './config-store.conformance.js';
import { keyStoreConformance } from './key-store.conformance.js';
import { policyStoreConformance } from './policy-store.conformance.js';
import { reviewStoreConformance } from './review-store.conformance.js';
import { sessionStoreConformance } from './session-store.conformance.js';

describe.skipIf(await skipPostgres())('PostgreSQL stores', () => {
  keyStoreConformance(openPostgresBackend);
  configStoreConformance(async () => {
    const backend = await openPostgresBackend();
    return { store: backend.stores.config, close: () => backend.close() };
  });
  auditSinkConformance(openPostgresBackend);
  auditQueryConformance(openPostgresBackend);
  policyStoreConformance(openPostgresBackend);
  reviewStoreConformance(openPostgresBackend);
  sessionStoreConformance(async () => {
    const backend = await openPostgresBackend();
    return { sessions: backend.stores.sessions, close: () => backend.close() };
  });
});
