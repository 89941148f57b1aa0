/** POST /v1/embeddings — OpenAI embeddings; every provider's answer is rendered in OpenAI's shape. */
import { toOpenAIError } from '../../errors.js';
import { readEmbeddingsRequest } from '../openai-body.js';
import { segmentsOf } from '../../policy/redact-request.js';
import type { EmbeddingsRequest } from '../../providers/adapter.js';
import type { EmbeddingsSurface } from '../surface.js';

export const embeddingsSurface: EmbeddingsSurface<EmbeddingsRequest> = {
  kind: 'embeddings',
  name: 'embeddings',
  parse(raw) {
    const read = readEmbeddingsRequest(raw);
    return { wire: read.body, model: read.model, stream: false, clientWantsUsage: false, facts: read.facts };
  },
  segments: (wire) => segmentsOf(wire, 'embeddings'),
  toEmbeddings: (wire) => wire,
  renderEmbeddings: (result) => result,
  renderError: (err) => toOpenAIError(err),
};
