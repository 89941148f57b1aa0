import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';

const options = { enabled: true, failures: 3, error_rate: 0.5, min_requests: 10, window: 10_000, cooldown: 5_000 };

function breaker() {
  let now = 1_000_000;
  const b = new CircuitBreaker(options, () => now);
  return { b, advance: (ms: number) => (now += ms) };
}

describe('circuit breaker', () => {
  it('opens after N consecutive failures and refuses traffic until the cooldown ends', () => {
    const { b, advance } = breaker();
    b.onFailure();
    b.onFailure();
    expect(b.state).toBe('closed');
    b.onFailure();
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    advance(4_999);
    expect(b.tryAcquire()).toBe(false);
    advance(1);
    expect(b.state).toBe('half_open');
  });

  it('lets exactly one probe through when half-open; success closes, failure reopens', () => {
    const { b, advance } = breaker();
    for (let i = 0; i < 3; i++) b.onFailure();
    advance(5_000);
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false); // the probe is in flight
    b.onFailure();
    expect(b.state).toBe('open');
    expect(b.opened).toBe(2);
    advance(5_000);
    expect(b.tryAcquire()).toBe(true);
    b.onSuccess();
    expect(b.state).toBe('closed');
    expect(b.tryAcquire()).toBe(true);
  });

  it('opens on the error rate over the window once enough requests were seen', () => {
    const { b } = breaker();
    for (let i = 0; i < 5; i++) {
      b.onSuccess();
      b.onFailure(); // never 3 in a row
    }
    expect(b.state).toBe('open'); // 5 of 10 failed = 0.5
  });

  it('forgets outcomes older than the window', () => {
    const { b, advance } = breaker();
    for (let i = 0; i < 4; i++) {
      b.onFailure();
      b.onSuccess();
    }
    advance(11_000);
    b.onSuccess();
    b.onFailure();
    expect(b.state).toBe('closed');
  });

  it('gives back an unused probe', () => {
    const { b, advance } = breaker();
    for (let i = 0; i < 3; i++) b.onFailure();
    advance(5_000);
    expect(b.tryAcquire()).toBe(true);
    b.onAbandoned();
    expect(b.tryAcquire()).toBe(true);
  });

  it('never refuses when disabled', () => {
    const b = new CircuitBreaker({ ...options, enabled: false });
    for (let i = 0; i < 10; i++) b.onFailure();
    expect(b.tryAcquire()).toBe(true);
  });
});
