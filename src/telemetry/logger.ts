/**
 * Structured JSON logs (pino). Credentials are redacted by path as a second line of defence;
 * the first is that nothing logs request bodies, prompts or provider keys.
 */
import pino, { type Logger } from 'pino';

export function createLogger(level: string = 'info'): Logger {
  return pino({
    level,
    base: { service: 'omega-gateway' },
    redact: {
      paths: ['req.headers.authorization', 'req.headers["api-key"]', 'req.headers["x-api-key"]', '*.api_key', '*.apiKey', 'headers.authorization'],
      censor: '[redacted]',
    },
  });
}
