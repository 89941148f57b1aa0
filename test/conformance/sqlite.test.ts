/** Every store interface's conformance suite, on SQLite (a real temp file). */
import { describe } from 'vitest';
import { auditQueryConformance } from './audit-query.conformance.js';
import { auditSinkConformance } from './audit-sink.conformance.js';
import { openSqliteBackend } from './backends.js';
import { configStoreConformance } from './config-store.conformance.js';
import { keyStoreConformance } from './key-store.conformance.js';
import { policyStoreConformance } from './policy-store.conformance.js';
import { reviewStoreConformance } from './review-store.conformance.js';
import { sessionStoreConformance } from './session-store.conformance.js';

describe('SQLite stores', () => {
  keyStoreConformance(openSqliteBackend);
  configStoreConformance(async () => {
    const backend = await openSqliteBackend();
    return { store: backend.stores.config, close: () => backend.close() };
  });
  auditSinkConformance(openSqliteBackend);
  auditQueryConformance(openSqliteBackend);
  policyStoreConformance(openSqliteBackend);
  reviewStoreConformance(openSqliteBackend);
  sessionStoreConformance(async () => {
    const backend = await openSqliteBackend();
    return { sessions: backend.stores.sessions, close: () => backend.close() };
  });
});
