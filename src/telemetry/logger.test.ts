import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Scrubber } from '../security/scrub.js';
import { createLogger, LazyChildLogger, scrubbingLogger } from './logger.js';

const SECRET = 'plain-configured-secret-value';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe('logger', () => {
  it('redacts credential headers and scrubs every line, children included', async () => {
    const { lines, stream } = capture();
    const log = scrubbingLogger(createLogger('info', stream), new Scrubber([SECRET]));
    const child = log.child({ reqId: 'req_1' });
    child.info({ req: { headers: { authorization: 'Bearer abc', 'x-api-key': 'k-123' } } }, 'headers');
    child.error({ err: new Error(`upstream said ${SECRET}`) }, `failed with ${SECRET}`);
    log.warn({ nested: { text: 'token=tok9876543210zyx', key: 'sk-ant-api03-abcdefghijklmnopqrstuvwx' } }, 'nested');
    log.info({ decisionId: 'dec_0123456789abcdef0123456789abcdef' }, 'ids stay readable');
    await new Promise((r) => setImmediate(r));
    const all = lines.join('');
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain('Bearer abc');
    expect(all).not.toContain('k-123');
    expect(all).not.toContain('tok9876543210zyx');
    expect(all).not.toContain('sk-ant-api03');
    expect(all).toContain('dec_0123456789abcdef0123456789abcdef');
    expect(JSON.parse(lines[1]!).reqId).toBe('req_1');
  });

  it('scrubs credential shapes without a configuration', async () => {
    const { lines, stream } = capture();
    createLogger('info', stream).info({ upstream: 'Authorization: Bearer sk-proj-abcdefghijklmnop1234' }, 'x');
    await new Promise((r) => setImmediate(r));
    expect(lines.join('')).not.toContain('sk-proj-abc');
  });

  it('makes the per-request child only when a line is written, with its bindings and the scrubbing', async () => {
    const { lines, stream } = capture();
    const base = scrubbingLogger(createLogger('info', stream), new Scrubber([SECRET]));
    let made = 0;
    const counting = Object.create(base, { child: { value: (b: object, o?: object) => (made++, base.child(b, o)) } });
    const quiet = new LazyChildLogger(counting, { reqId: 'req_quiet' }, {});
    expect(quiet.level).toBe('info');
    expect(quiet.isLevelEnabled('debug')).toBe(false);
    quiet.debug('below the level still makes no line');
    expect(made).toBe(1);
    const untouched = new LazyChildLogger(counting, { reqId: 'req_untouched' }, {});
    expect(untouched.level).toBe('info');
    expect(made).toBe(1);
    const loud = new LazyChildLogger(counting, { reqId: 'req_loud' }, {});
    loud.error({ err: new Error(`bad ${SECRET}`) }, 'failed');
    loud.warn('again');
    expect(made).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toMatchObject({ reqId: 'req_loud', msg: 'failed' });
    expect(lines.join('')).not.toContain(SECRET);
  });
});

