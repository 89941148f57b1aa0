// TEMPORARY placeholder until the catalog lands (helper is writing the real one).
export interface CatalogEntry {
  id: string;
  family: string;
  upstreamModel: string;
  contextWindow?: number;
  maxOutputTokens?: number;
  capabilities: { tools: boolean; vision: boolean; json: boolean; embeddings?: boolean; reasoning?: boolean };
  price?: { input: number; output: number; cached_input?: number };
  source: string;
  asOf: string;
}
export function catalogEntry(_name: string): CatalogEntry | undefined {
  return undefined;
}
