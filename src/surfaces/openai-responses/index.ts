/**
 * The OpenAI Responses surface (`POST /v1/responses`, `GET`/`DELETE /v1/responses/{id}`):
 * native for provider type `openai`, translated through the chat pivot for every other.
 * Conversation state (`store`, `previous_response_id`) is kept by the gateway for every
 * provider, scoped to the tenant: a continued conversation is expanded from the gateway's store
 * before counting and policy, so every provider (and a fallback to another) sees all of it.
 */
import type { ResponseStore } from '../../store/types.js';
import { storeUnavailable, type StoreAvailability } from '../../store/availability.js';
import { GatewayError } from '../../errors.js';
import type { AnsweredBy, ChatSurface, Conversation } from '../surface.js';
import { expandPrevious, shouldStore, toStored, withExpandedInput } from './conversation.js';
import { ResponsesStreamEncoder } from './encode-stream.js';
import { nativeRequest } from './native.js';
import { observeNative, ResponsesStreamObserver } from './observe.js';
import { parseResponsesRequest, responsesSegments } from './parse.js';
import { renderCompletion, renderError } from './render.js';
import { responsesToChat } from './to-chat.js';
import type { Response, ResponseInputItem, ResponsesWire } from './types.js';

export { renderStored, responseNotFound } from './conversation.js';
export type { ResponsesWire } from './types.js';

export interface ResponsesSettings {
  /** responses.store: false keeps nothing. */
  store: boolean;
  /** responses.retention, ms. */
  retentionMs: number;
}

/** What stored responses need of the store's degraded mode (storage.on_unavailable). */
export type ResponsesOutage = Pick<StoreAvailability, 'down' | 'decide' | 'onRecovery'>;

export function createResponsesSurface(store: ResponseStore, settings: ResponsesSettings, outage?: ResponsesOutage): ChatSurface<ResponsesWire> {
  return {
    kind: 'chat',
    name: 'openai-responses',
    parse: (raw) => parseResponsesRequest(raw),
    segments: responsesSegments,
    toChat: responsesToChat,
    native: {
      providerTypes: new Set(['openai']),
      request: (wire, target) => nativeRequest(wire, target),
      observe: observeNative,
      observeStream: (target) => new ResponsesStreamObserver(target),
    },
    conversation: new StoredConversations(store, settings, outage),
    renderCompletion: (completion, wire) => renderCompletion(completion, wire),
    streamEncoder: (wire) => new ResponsesStreamEncoder(wire),
    renderError,
  };
}

type Json = Record<string, unknown>;

/** Responses answered while the store was down and kept in memory for it (storage.on_unavailable open), at most. */
const MAX_UNWRITTEN = 10_000;

/**
 * The gateway's stored conversations. A saved response is readable at once in this process
 * (kept in `recent` until its write lands), so a client that continues a conversation the moment
 * its answer ends never races the store. While the store is unreachable (storage.on_unavailable
 * `open`) a response that could not be written stays in `recent` — readable on this replica —
 * and is written when the store answers again; `closed` refuses requests that ask to be stored.
 */
class StoredConversations implements Conversation<ResponsesWire> {
  private readonly recent = new Map<string, ReturnType<typeof toStored>>();
  /** Keys of `recent` whose write failed because the store was down: written on recovery. */
  private readonly unwritten = new Set<string>();

  constructor(
    private readonly store: ResponseStore,
    private readonly settings: ResponsesSettings,
    private readonly outage?: ResponsesOutage,
  ) {
    outage?.onRecovery(() => this.writeUnwritten());
  }

  continues(wire: ResponsesWire): boolean {
    return typeof (wire as Json).previous_response_id === 'string';
  }

  checkStorable(wire: ResponsesWire): void {
    if (!this.outage?.down || !shouldStore(wire, this.settings.store)) return;
    if (!this.outage.decide('responses', this.unwritten.size < MAX_UNWRITTEN)) throw storeUnavailable('Storing this response (send `store: false` to be answered without it)');
  }

  async load(wire: ResponsesWire, tenantId: string): Promise<ResponsesWire> {
    // Writes still in flight are read first.
    const reader = { get: async (t: string, id: string) => this.recent.get(`${t}\u0000${id}`) ?? this.store.get(t, id) };
    return withExpandedInput(wire, await expandPrevious(wire, reader, tenantId));
  }

  save(wire: ResponsesWire, answer: unknown, by: AnsweredBy): void {
    if (!shouldStore(wire, this.settings.store)) return;
    const response = answer as Response;
    if (!response || typeof response.id !== 'string' || !Array.isArray(response.output)) return;
    // The input as forwarded: the expanded conversation (redactions applied), so later turns never bring back redacted text.
    const input = (wire as Json).input;
    const inputItems = (typeof input === 'string' ? [{ type: 'message', role: 'user', content: input }] : (input ?? [])) as ResponseInputItem[];
    const stored = toStored(response, wire, { ...by, inputItems, retentionMs: this.settings.retentionMs, now: Date.now() });
    const key = `${by.tenantId}\u0000${stored.id}`;
    this.recent.set(key, stored);
    this.write(key, stored);
  }

  private write(key: string, stored: ReturnType<typeof toStored>): void {
    void this.store.put(stored.tenantId, stored).then(
      () => {
        this.unwritten.delete(key);
        this.recent.delete(key);
      },
      (err: unknown) => {
        // Store down: kept (bounded) until it answers again; any other failure drops it, as before.
        if (this.outage && err instanceof GatewayError && err.code === 'store_unavailable' && this.unwritten.size < MAX_UNWRITTEN) this.unwritten.add(key);
        else this.recent.delete(key);
      },
    );
  }

  private writeUnwritten(): void {
    for (const key of this.unwritten) {
      const stored = this.recent.get(key);
      if (stored) this.write(key, stored);
      else this.unwritten.delete(key);
    }
  }
}
