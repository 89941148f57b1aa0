/** The in-process store implementations' conformance suites. */
import { describe } from 'vitest';
import { MemoryConfigStore } from '../../src/store/memory/config-store.js';
import { MemorySessionStore } from '../../src/store/memory/session-store.js';
import { configStoreConformance } from './config-store.conformance.js';
import { sessionStoreConformance } from './session-store.conformance.js';

describe('memory stores', () => {
  sessionStoreConformance(async () => ({ sessions: new MemorySessionStore(), close: async () => {} }));
  configStoreConformance(async () => ({ store: new MemoryConfigStore(), close: async () => {} }));
});
