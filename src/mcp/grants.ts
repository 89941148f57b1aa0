/**
 * MCP grants: which servers and tools a principal may use. The tenant must grant a server;
 * a team or agent that sets `mcp` narrows further (every scope that sets it must allow the
 * server and the tool). Tool patterns are `tool` or `server/tool`, `*` matching any run.
 */
import type { Principal } from '../auth/directory.js';
import type { McpGrant } from '../config/schema.js';

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*');
  return new RegExp(`^${escaped}$`);
}

/** Compiled patterns are cached: grants come from the config and never change while it is loaded. */
const compiled = new Map<string, RegExp>();
function matches(pattern: string, value: string): boolean {
  let re = compiled.get(pattern);
  if (!re) compiled.set(pattern, (re = globToRegExp(pattern)));
  return re.test(value);
}

function toolMatches(pattern: string, server: string, tool: string): boolean {
  return pattern.includes('/') ? matches(pattern, `${server}/${tool}`) : matches(pattern, tool);
}

function scopes(p: Principal): McpGrant[] {
  return [p.tenant.mcp, p.team.mcp, p.agent.mcp].filter((g): g is McpGrant => g !== undefined);
}

export function mayUseServer(p: Principal, server: string): boolean {
  if (!p.tenant.mcp) return false;
  return scopes(p).every((g) => g.servers.some((s) => matches(s, server)));
}

export function mayCallTool(p: Principal, server: string, tool: string): boolean {
  if (!mayUseServer(p, server)) return false;
  return scopes(p).every((g) => g.tools.some((t) => toolMatches(t, server, tool)));
}

/** The tightest per-minute quota any scope sets for this tool, or undefined. */
export function toolRpm(p: Principal, server: string, tool: string): number | undefined {
  let rpm: number | undefined;
  for (const g of scopes(p)) {
    for (const [pattern, n] of Object.entries(g.tool_rpm)) {
      if (toolMatches(pattern, server, tool)) rpm = rpm === undefined ? n : Math.min(rpm, n);
    }
  }
  return rpm;
}
