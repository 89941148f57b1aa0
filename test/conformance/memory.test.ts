/** The in-process store implementations' conformance suites. */
import { describe } from 'vitest';
import { MemorySessionStore } from '../../src/store/memory/session-store.js';
import { sessionStoreConformance } from './session-store.conformance.js';

describe('memory stores', () => {
  sessionStoreConformance(async () => ({ sessions: new MemorySessionStore(), close: async () => {} }));
});
