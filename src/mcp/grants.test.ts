import { describe, expect, it } from 'vitest';
import type { Principal } from '../auth/directory.js';
import { McpGrantSchema } from '../config/schema.js';
import { mayCallTool, mayUseServer, toolRpm } from './grants.js';

const grant = (g: unknown) => McpGrantSchema.parse(g);
function principal(tenant?: unknown, team?: unknown, agent?: unknown): Principal {
  return {
    tenantId: 't',
    teamId: 'm',
    agentId: 'a',
    keyId: 'k',
    tenant: { mcp: tenant === undefined ? undefined : grant(tenant) },
    team: { mcp: team === undefined ? undefined : grant(team) },
    agent: { mcp: agent === undefined ? undefined : grant(agent) },
  } as unknown as Principal;
}

describe('MCP grants', () => {
  it('gives nothing without a tenant grant, even when an agent names servers', () => {
    expect(mayUseServer(principal(undefined, undefined, { servers: ['*'] }), 'bank')).toBe(false);
  });

  it('matches server patterns and narrows by every scope that sets a grant', () => {
    const p = principal({ servers: ['bank-*'] }, undefined, { servers: ['bank-eu'], tools: ['get_*', 'bank-eu/read_row'] });
    expect(mayUseServer(p, 'bank-eu')).toBe(true);
    expect(mayUseServer(p, 'bank-us')).toBe(false);
    expect(mayCallTool(p, 'bank-eu', 'get_weather')).toBe(true);
    expect(mayCallTool(p, 'bank-eu', 'read_row')).toBe(true);
    expect(mayCallTool(p, 'bank-eu', 'transfer_funds')).toBe(false);
    // Dots and other regex characters in names are literal.
    expect(mayUseServer(principal({ servers: ['a.b'] }), 'aXb')).toBe(false);
  });

  it('takes the tightest per-tool quota of all scopes', () => {
    const p = principal({ servers: ['*'], tool_rpm: { transfer_funds: 10 } }, { servers: ['*'], tool_rpm: { 'bank/transfer_*': 2 } });
    expect(toolRpm(p, 'bank', 'transfer_funds')).toBe(2);
    expect(toolRpm(p, 'other', 'transfer_funds')).toBe(10);
    expect(toolRpm(p, 'bank', 'get_weather')).toBeUndefined();
  });
});
