import { z } from 'zod';
import { ConfigSchema } from './schema.js';

/** The JSON Schema of the deployment file, generated from the zod schema (input side: what users write). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
