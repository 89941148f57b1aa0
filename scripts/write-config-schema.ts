/** Writes docs/omega.schema.json from the zod schema (`npm run schema`); a test keeps it current. */
import { writeFileSync } from 'node:fs';
import { configJsonSchema } from '../src/config/json-schema.js';

const target = new URL('../docs/omega.schema.json', import.meta.url);
writeFileSync(target, JSON.stringify(configJsonSchema(), null, 2) + '\n');
console.log(`wrote ${target.pathname}`);
