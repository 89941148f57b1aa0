/**
 * Structured JSON logs (pino). Nothing logs request bodies, prompts or provider keys; as a second
 * line of defence, credential headers are redacted by path and every line is scrubbed as it is
 * written: of credential shapes always, and of the configuration's own secrets once
 * `scrubbingLogger` wraps the logger (main.ts does, for any logger it is given).
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import { scrubPatterns, type Scrubber } from '../security/scrub.js';

/** Credential headers, as pino redact accessors. */
const CREDENTIAL_HEADERS = ['.authorization', '["x-api-key"]', '["api-key"]', '["x-goog-api-key"]', '.cookie', '["proxy-authorization"]'];

/** Header paths of requests, responses and bare header objects, plus key-like fields one level down. */
export const REDACT_PATHS = [
  ...CREDENTIAL_HEADERS.flatMap((h) => ['req.headers', 'res.headers', 'headers', '*.headers'].map((at) => `${at}${h}`)),
  'api_key',
  'apiKey',
  '*.api_key',
  '*.apiKey',
  '*.token',
];

const censor = '[redacted]';

export function createLogger(level: string = 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'omega-gateway' },
    redact: { paths: REDACT_PATHS, censor },
    // The final line, message and serialized errors included, loses anything credential-shaped.
    hooks: { streamWrite: (line: string) => scrubPatterns(line, false) },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * A child of `base` whose every line (its children's too) is scrubbed of the configuration's
 * secrets and of credential shapes before it reaches the destination.
 */
export function scrubbingLogger(base: Logger, scrubber: Scrubber): Logger {
  const child = base.child({}, { redact: { paths: REDACT_PATHS, censor } });
  const hooks = (child as unknown as Record<symbol, { streamWrite?: (s: string) => string }>)[pino.symbols.hooksSym] ?? {};
  const previous = hooks.streamWrite;
  // pino reads the hook from the logger a line is written by; children inherit it by prototype.
  (child as unknown as Record<symbol, unknown>)[pino.symbols.hooksSym] = {
    ...hooks,
    streamWrite: (line: string) => scrubber.scrubLogLine(previous ? previous(line) : line),
  };
  return child;
}
