/** The in-process implementations' conformance suites. */
import { describe } from 'vitest';
import { MemoryConfigStore } from '../../src/store/memory/config-store.js';
import { configStoreConformance } from './config-store.conformance.js';

describe('memory stores', () => {
  configStoreConformance(async () => ({ store: new MemoryConfigStore(), close: async () => {} }));
});
