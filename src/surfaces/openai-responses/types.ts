/** The Responses surface's wire types, from the `openai` package (never hand-copied). */
import type {
  Response,
  ResponseCreateParams,
  ResponseInputItem,
  ResponseOutputItem,
  ResponseStreamEvent,
  Tool,
} from 'openai/resources/responses/responses';

export type { Response, ResponseCreateParams, ResponseInputItem, ResponseOutputItem, ResponseStreamEvent, Tool };

/** The validated client body (what goes upstream natively, after policy redactions). */
export type ResponsesWire = ResponseCreateParams;

export interface EncoderOptions {
  /** The response id to announce (so the runner can store it under the same id). */
  id?: string;
  /** Seconds since the epoch for `created_at`. */
  createdAt?: number;
}
