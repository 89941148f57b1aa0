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

type LogMethod = (...args: unknown[]) => void;

/**
 * The per-request logger Fastify asks for on every request (`childLoggerFactory`), made only when
 * a line is written: request logging is off, so almost no request logs, and a pino child costs
 * microseconds on the hot path. Writes through it are the real child's (bindings, redaction and
 * scrubbing included).
 */
export class LazyChildLogger {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Record<string, unknown>,
    private readonly options: object,
  ) {}

  private get real(): Logger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return (this.made ?? this.parent).level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.made ?? this.parent).isLevelEnabled(level);
  }

  fatal(...args: unknown[]): void {
    (this.real.fatal as LogMethod)(...args);
  }

  error(...args: unknown[]): void {
    (this.real.error as LogMethod)(...args);
  }

  warn(...args: unknown[]): void {
    (this.real.warn as LogMethod)(...args);
  }

  info(...args: unknown[]): void {
    (this.real.info as LogMethod)(...args);
  }

  debug(...args: unknown[]): void {
    (this.real.debug as LogMethod)(...args);
  }

  trace(...args: unknown[]): void {
    (this.real.trace as LogMethod)(...args);
  }

  silent(...args: unknown[]): void {
    (this.real.silent as LogMethod)(...args);
  }

  child(bindings: Record<string, unknown>, options?: object): Logger {
    return this.real.child(bindings, options);
  }
}
