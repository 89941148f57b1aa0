/**
 * The pipeline's shape: one ordered list of stages, and no route or surface reaching past the
 * runner into a stage.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Pipeline } from './run.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

describe('pipeline', () => {
  it('runs the stages in the product order, after authentication', () => {
    // Building the list touches no dependency; the stages use theirs only when run.
    const pipeline = new Pipeline({ settings: {} } as never);
    expect(pipeline.stages.map((s) => s.name)).toEqual([
      'read',
      'route',
      'conversation',
      'count',
      'rate-limit',
      'policy',
      'budget',
      'review',
      'store-content',
      'record-decision',
      'forward',
    ]);
    // With shared counters (Redis) the list is the same: the rate-limit stage stands aside for a
    // request that also has budgets, and the budget stage takes both in one admission call.
    const shared = new Pipeline({ settings: {}, admission: {} } as never);
    expect(shared.stages.map((s) => s.name)).toEqual(pipeline.stages.map((s) => s.name));
  });

  it('is the only way routes and surfaces reach a stage', () => {
    const offenders: string[] = [];
    for (const file of [...files('src/routes'), ...files('src/surfaces')]) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'((?:\.\.\/)+pipeline\/([\w-]+)\.js)'/gm)) {
        const typeOnly = m[1] !== undefined;
        // The runner itself, and the context's types (what a surface reports about a request).
        if (m[3] === 'run' || (typeOnly && m[3] === 'context')) continue;
        offenders.push(`${file}: ${m[2]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
