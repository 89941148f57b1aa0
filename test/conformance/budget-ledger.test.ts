import { MemoryBudgetLedger } from '../../src/budget/memory-ledger.js';
import { RedisBudgetLedger } from '../../src/store/redis/budget-ledger.js';
import { budgetLedgerConformance } from './budget-ledger.conformance.js';
import { connect, dropPrefix, randomPrefix, redisVariantsEnabled } from './redis-harness.js';

budgetLedgerConformance('memory', async (now, timeZone) => {
  const ledger = new MemoryBudgetLedger({ now, timeZone, sweepIntervalMs: 0 });
  return { replicas: [ledger, ledger], shared: false, close: async () => ledger.close() };
});

if (await redisVariantsEnabled()) {
  budgetLedgerConformance('redis (two connections)', async (now, timeZone) => {
    const prefix = randomPrefix();
    const [r1, r2] = [connect(), connect()];
    return {
      replicas: [new RedisBudgetLedger({ redis: r1, prefix, timeZone, now }), new RedisBudgetLedger({ redis: r2, prefix, timeZone, now })],
      shared: true,
      close: async () => {
        await dropPrefix(r1, prefix);
        r1.disconnect();
        r2.disconnect();
      },
    };
  });
}
