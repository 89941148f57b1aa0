/**
 * Conversation state: `previous_response_id` expanded from the gateway's own store (for every
 * provider, so a fallback to another provider keeps the conversation), what a
 * finished response stores, and the GET rendering. Tenant scoping lives in the store: another
 * tenant's id reads as absent, so it is the same 404 as an unknown id.
 */
import { GatewayError } from '../../errors.js';
import type { ResponseStore, StoredResponse } from '../../store/types.js';
import { isObject } from './parse.js';
import type { Response, ResponseInputItem, ResponsesWire } from './types.js';

type Json = Record<string, any>;

export function responseNotFound(id: string, param: string | null = null): GatewayError {
  return new GatewayError('not_found', `Response with id '${id}' not found.`, { param });
}

/** The request's own input as items (a string is one user message). */
export function inputItems(wire: ResponsesWire): ResponseInputItem[] {
  const input = (wire as Json).input;
  if (input === undefined || input === null) return [];
  if (typeof input === 'string') return [{ type: 'message', role: 'user', content: input }];
  return input as ResponseInputItem[];
}

/**
 * The input items with the stored conversation of `previous_response_id` in front (its input,
 * then its output). `item_reference`s to items of that conversation are replaced by the items.
 * Throws `not_found` (param previous_response_id) when the id is unknown to this tenant.
 */
export async function expandPrevious(wire: ResponsesWire, store: Pick<ResponseStore, 'get'>, tenantId: string): Promise<ResponseInputItem[]> {
  const own = inputItems(wire);
  const previousId = (wire as Json).previous_response_id;
  if (typeof previousId !== 'string') return own;
  const previous = await store.get(tenantId, previousId);
  if (!previous) throw responseNotFound(previousId, 'previous_response_id');
  const history = [...previous.inputItems, ...previous.outputItems] as ResponseInputItem[];
  const byId = new Map<string, ResponseInputItem>();
  for (const item of history) if (isObject(item) && typeof item.id === 'string') byId.set(item.id, item);
  const resolved = own.map((item) => {
    const it = item as Json;
    return it.type === 'item_reference' && byId.has(it.id) ? byId.get(it.id)! : item;
  });
  return [...history, ...resolved];
}

/** The wire with the expanded conversation as its input and no `previous_response_id`. */
export function withExpandedInput(wire: ResponsesWire, items: ResponseInputItem[]): ResponsesWire {
  const { previous_response_id: _drop, ...rest } = wire as Json;
  return { ...rest, input: items } as ResponsesWire;
}

export interface StoreOptions {
  tenantId: string;
  /** The configured provider that answered. */
  provider: string;
  native: boolean;
  /** The full conversation input (expandPrevious's result). */
  inputItems: ResponseInputItem[];
  /** `responses.retention`, ms. */
  retentionMs: number;
  now: number;
}

/** Whether this response is to be kept: the client's `store` (default true) and `responses.store`. */
export function shouldStore(wire: ResponsesWire, storeEnabled: boolean): boolean {
  return storeEnabled && (wire as Json).store !== false;
}

export function toStored(response: Response, wire: ResponsesWire, o: StoreOptions): StoredResponse {
  const { output_text: _derived, ...json } = response as Response & { output_text?: string };
  return {
    id: response.id,
    tenantId: o.tenantId,
    createdAt: o.now,
    expiresAt: o.now + o.retentionMs,
    model: String((wire as Json).model),
    provider: o.provider,
    native: o.native,
    inputItems: o.inputItems,
    outputItems: response.output,
    response: json,
  };
}

/** `GET /v1/responses/{id}`: the Response as the client first received it. */
export function renderStored(stored: StoredResponse): Response {
  return stored.response as Response;
}
