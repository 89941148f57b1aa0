/** The price of one tools/call (mcp_servers.<name>.tool_prices_usd): an exact tool name wins, else the first matching pattern. */
import type { McpServerConfig } from '../config/schema.js';

const compiled = new Map<string, RegExp>();

function matches(pattern: string, tool: string): boolean {
  let re = compiled.get(pattern);
  if (!re) compiled.set(pattern, (re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`)));
  return re.test(tool);
}

/**
 * @example toolPrice({ tool_prices_usd: { transfer_funds: 0.05, '*': 0.001 } } as McpServerConfig, 'get_weather') // 0.001
 */
export function toolPrice(server: Pick<McpServerConfig, 'tool_prices_usd'>, tool: string): number {
  const prices = server.tool_prices_usd;
  if (Object.hasOwn(prices, tool)) return prices[tool]!;
  for (const [pattern, usd] of Object.entries(prices)) if (pattern.includes('*') && matches(pattern, tool)) return usd;
  return 0;
}
