import { describe, it, expect } from 'vitest';
import { createPiiDetector, luhnValid } from './pii.js';
import type { Finding } from './types.js';

const pii = createPiiDetector();
const spans = (fs: Finding[]) => fs.map((f) => [f.type, f.start, f.end]);
/** Expected [type, start, end] for `needle` inside `text`. */
const at = (text: string, needle: string, type: string) => {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`test bug: ${needle} not in text`);
  return [type, i, i + needle.length];
};

describe('luhnValid', () => {
  it('accepts valid and rejects invalid numbers', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('')).toBe(false);
    expect(luhnValid('4111-1111')).toBe(false);
  });
});

describe('payment_card', () => {
  it('finds a valid Visa number, grouped or compact', () => {
    const t = 'card 4111 1111 1111 1111 and 4111111111111111.';
    expect(spans(pii.scan(t))).toEqual([
      ['payment_card', 5, 24],
      ['payment_card', 29, 45],
    ]);
  });

  it('rejects the same digits with one changed (Luhn fails)', () => {
    expect(pii.scan('card 4111 1111 1111 1112 here')).toEqual([]);
  });

  it('rejects a Luhn-valid 16-digit order number with no known IIN', () => {
    expect(luhnValid('1234567812345670')).toBe(true);
    expect(pii.scan('order 1234567812345670 shipped')).toEqual([]);
  });

  it('knows the major issuer ranges', () => {
    const cards = [
      '378282246310005', // Amex
      '5555555555554444', // Mastercard 51-55
      '2223003122003222', // Mastercard 2-series
      '6011111111111117', // Discover
      '3530111333300000', // JCB
      '30569309025904', // Diners
      '6200000000000005', // UnionPay
      '4222222222222', // Visa, 13 digits
    ];
    for (const c of cards) expect(spans(pii.scan(`pay ${c} now`)), c).toEqual([['payment_card', 4, 4 + c.length]]);
  });

  it('rejects mixed separators and odd grouping', () => {
    expect(pii.scan('4111-1111 1111-1111')).toEqual([]);
    expect(pii.scan('41 11 11 11 11 11 11 11')).toEqual([]);
  });

  it('has confidence in (0, 1]', () => {
    const [f] = pii.scan('4111111111111111');
    expect(f.detector).toBe('pii');
    expect(f.confidence).toBeGreaterThan(0);
    expect(f.confidence).toBeLessThanOrEqual(1);
  });
});

describe('iban', () => {
  it('finds valid IBANs with and without spaces', () => {
    const t = 'Pay GB82 WEST 1234 5698 7654 32 or DE89 3704 0044 0532 0130 00, alt DE89370400440532013000.';
    expect(spans(pii.scan(t))).toEqual([
      at(t, 'GB82 WEST 1234 5698 7654 32', 'iban'),
      at(t, 'DE89 3704 0044 0532 0130 00', 'iban'),
      at(t, 'DE89370400440532013000', 'iban'),
    ]);
  });

  it('rejects a wrong checksum, wrong length and unknown country', () => {
    expect(pii.scan('GB82 WEST 1234 5698 7654 33')).toEqual([]);
    expect(pii.scan('GB82 WEST 1234 5698 7654 3')).toEqual([]);
    expect(pii.scan('QQ82 WEST 1234 5698 7654 32')).toEqual([]);
  });

  it('stops at the country length when a word follows', () => {
    const t = 'BE68 5390 0754 7034 THEN more';
    expect(spans(pii.scan(t))).toEqual([at(t, 'BE68 5390 0754 7034', 'iban')]);
  });
});

describe('us_ssn', () => {
  it('finds a valid SSN', () => {
    expect(spans(pii.scan('SSN: 123-45-6789.'))).toEqual([['us_ssn', 5, 16]]);
  });

  it('rejects invalid area, group and serial', () => {
    for (const s of ['000-12-3456', '666-12-3456', '900-12-3456', '123-00-4567', '123-45-0000']) {
      expect(pii.scan(`SSN ${s}`), s).toEqual([]);
    }
  });

  it('does not match inside longer dashed ids', () => {
    expect(pii.scan('id 1-123-45-6789-2')).toEqual([]);
  });
});

describe('ip_address', () => {
  it('finds IPv4 and skips versions and out-of-range octets', () => {
    const t = 'host 10.0.0.1, version 1.2.3, bad 999.1.1.1, long 1.2.3.4.5, v1.2.3.4';
    expect(spans(pii.scan(t))).toEqual([at(t, '10.0.0.1', 'ip_address')]);
  });

  it('finds IPv6 full and compressed forms', () => {
    const t = 'a 2001:0db8:0000:0000:0000:ff00:0042:8329 b 2001:db8::8a2e:370:7334 c ::1 d fe80::1.';
    expect(spans(pii.scan(t))).toEqual([
      at(t, '2001:0db8:0000:0000:0000:ff00:0042:8329', 'ip_address'),
      at(t, '2001:db8::8a2e:370:7334', 'ip_address'),
      at(t, '::1', 'ip_address'),
      at(t, 'fe80::1', 'ip_address'),
    ]);
  });

  it('ignores times, MAC addresses and C++ scopes', () => {
    expect(pii.scan('at 12:30:45, mac 00:1A:2B:3C:4D:5E, std::vector, Foo::bar, a:b')).toEqual([]);
  });
});

describe('email', () => {
  it('finds addresses', () => {
    const t = 'Mail john.doe+tag@example.co.uk or (jane_d@sub-domain.example.org).';
    expect(spans(pii.scan(t))).toEqual([
      at(t, 'john.doe+tag@example.co.uk', 'email'),
      at(t, 'jane_d@sub-domain.example.org', 'email'),
    ]);
  });

  it('rejects things that only look like addresses', () => {
    expect(pii.scan('@mention, a@b, x@y.z, user@localhost, npm i @scope/pkg, me@-bad.com, me@bad-.com')).toEqual([]);
  });
});

describe('phone', () => {
  it('finds E.164, NANP and European formats', () => {
    const t = 'Call +1 415 555 2671, (415) 555-2671, 415.555.2671, 1-800-555-0199, +44 20 7946 0958, +14155552671, 030 1234567, 06 12 34 56 78, 0044 20 7946 0958.';
    const phones = ['+1 415 555 2671', '(415) 555-2671', '415.555.2671', '1-800-555-0199', '+44 20 7946 0958', '+14155552671', '030 1234567', '06 12 34 56 78', '0044 20 7946 0958'];
    expect(spans(pii.scan(t))).toEqual(phones.map((p) => at(t, p, 'phone')));
  });

  it('ignores dates, versions and plain long numbers', () => {
    const t = 'On 2024-01-15 (15.01.2024, 01/15/2024) we shipped 10.15.7 for order 4155552671 and 1234 5678 ids, 12-34-56.';
    expect(pii.scan(t)).toEqual([]);
  });

  it('accepts international numbers written in pairs', () => {
    const t = 'Paris +33 1 23 45 67 89.';
    expect(spans(pii.scan(t))).toEqual([at(t, '+33 1 23 45 67 89', 'phone')]);
  });

  it('ignores byte dumps and repeated groups', () => {
    expect(pii.scan('<Buffer 00 00 00 00 00> <Buffer a0 8b 28 3f 01 00 00 00 50 32> 01 02 03 04 05 06 07 08, 11 11 11 11 11')).toEqual([]);
  });

  it('finds a phone that follows an unrelated number', () => {
    const t = 'ticket 1234 415-555-2671';
    expect(spans(pii.scan(t))).toEqual([at(t, '415-555-2671', 'phone')]);
  });
});

describe('createPiiDetector', () => {
  it('reports only the requested types', () => {
    const t = 'a@example.com 10.0.0.1 4111111111111111';
    expect(spans(createPiiDetector(['email']).scan(t))).toEqual([['email', 0, 13]]);
    expect(spans(createPiiDetector(['ip_address', 'payment_card']).scan(t))).toEqual([
      ['ip_address', 14, 22],
      ['payment_card', 23, 39],
    ]);
  });

  it('rejects unknown types', () => {
    expect(() => createPiiDetector(['ssn' as never])).toThrow(/unknown PII type/);
  });

  it('does not report digits inside an IBAN as another type', () => {
    const t = 'DE89 3704 0044 0532 0130 00';
    expect(spans(pii.scan(t))).toEqual([['iban', 0, t.length]]);
  });

  it('returns findings sorted by start and handles empty text', () => {
    expect(pii.scan('')).toEqual([]);
    const fs = pii.scan('x 10.0.0.1 a@example.com +44 20 7946 0958 123-45-6789');
    expect(fs.map((f) => f.start)).toEqual([...fs.map((f) => f.start)].sort((a, b) => a - b));
    expect(fs.map((f) => f.type)).toEqual(['ip_address', 'email', 'phone', 'us_ssn']);
  });
});
