import { describe, it, expect } from 'vitest';
import { createSecretsDetector, shannonEntropy } from './secrets.js';
import type { Finding } from './types.js';

const sec = createSecretsDetector();
const spans = (fs: Finding[]) => fs.map((f) => [f.type, f.start, f.end]);
const at = (text: string, needle: string, type: string) => {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`test bug: ${needle} not in text`);
  return [type, i, i + needle.length];
};
const one = (text: string, needle: string, type: string) => expect(spans(sec.scan(text))).toEqual([at(text, needle, type)]);

// Fake credentials, assembled at runtime so the source holds no key-shaped literals.
const AWS_ID = 'AKIA' + 'IOSFODNN7EXAMPLE';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/' + 'bPxRfiCYEXAMPLEKEY';
const GH = 'ghp_' + 'a1B2c3D4e5'.repeat(3) + 'f6G7h8';
const OPENAI = 'sk-proj-' + 'Ab3dEf9Hk2'.repeat(5);
const OPENAI_LEGACY = 'sk-' + 'T3BlbkFJ4x'.repeat(4) + 'Qz12Wx90';
const ANTHROPIC = 'sk-ant-api03-' + 'xY9_kL2-pQ'.repeat(4);
const GOOGLE = 'AIza' + 'SyD4-9kLmN0pQrStUvWxYz12345678_abcd';
const SLACK = 'xoxb-' + '123456789012-1234567890123-AbCdEfGhIjKlMnOp';
const STRIPE = 'sk_live_' + '4eC39HqLyjWDarjtT1zdp7dc';
const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9' + '.eyJzdWIiOiIxMjM0NTY3ODkwIn0' + '.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA75Hq0v0Kx\nQ2v0Kx9Zz==\n-----END RSA PRIVATE KEY-----';

describe('vendor keys', () => {
  it('finds an AWS access key id but not the word AKIAPPLE', () => {
    one(`id=${AWS_ID} and AKIAPPLE`, AWS_ID, 'aws_access_key');
    expect(sec.scan(`AKIAPPLE AKIA1234 asia pacific X${AWS_ID}`)).toEqual([]);
  });

  it('finds an AWS secret key only near an aws/secret keyword', () => {
    one(`aws_secret_access_key = ${AWS_SECRET}`, AWS_SECRET, 'aws_secret_key');
    const far = `the value ${AWS_SECRET} appears here`;
    expect(sec.scan(far).map((f) => f.type)).toEqual(['high_entropy']);
  });

  it('finds GitHub tokens', () => {
    one(`token ${GH}.`, GH, 'github_token');
    const pat = 'github_pat_' + '11ABCDEFG0' + '_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVW';
    one(`pat: ${pat}`, pat, 'github_token');
    expect(sec.scan('ghp_short and ghx_' + 'a'.repeat(36))).toEqual([]);
  });

  it('tells Anthropic and OpenAI keys apart', () => {
    const t = `a ${ANTHROPIC} b ${OPENAI} c ${OPENAI_LEGACY}`;
    expect(spans(sec.scan(t))).toEqual([
      at(t, ANTHROPIC, 'anthropic_key'),
      at(t, OPENAI, 'openai_key'),
      at(t, OPENAI_LEGACY, 'openai_key'),
    ]);
  });

  it('does not take hyphenated words for OpenAI keys', () => {
    expect(sec.scan('use sk-learn-and-this-is-just-words-here, task-sk-abcdefghijklmnopqrstuvwx')).toEqual([]);
  });

  it('finds Google, Slack and Stripe keys', () => {
    one(`key=${GOOGLE}&x`, GOOGLE, 'google_api_key');
    one(`SLACK_TOKEN: ${SLACK}`, SLACK, 'slack_token');
    one(`stripe ${STRIPE}`, STRIPE, 'stripe_key');
    expect(sec.scan('xoxb-not-a-token-at-all')).toEqual([]);
    // Test-mode keys are not stripe_key (only live ones are), but still look random.
    expect(sec.scan('sk_test_4eC39HqLyjWDarjtT1zdp7dc').map((f) => f.type)).toEqual(['high_entropy']);
  });
});

describe('private_key', () => {
  it('covers the whole PEM block', () => {
    one(`key:\n${PEM}\nthanks`, PEM, 'private_key');
  });

  it('covers the body of a truncated key', () => {
    const t = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nBG5vbmUAAAAEbm9uZQ';
    expect(spans(sec.scan(`${t}\n\n`))).toEqual([['private_key', 0, t.length]]);
  });

  it('ignores public keys and certificates', () => {
    expect(sec.scan('-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----')).toEqual([]);
  });
});

describe('jwt and bearer tokens', () => {
  it('finds a JWT', () => {
    one(`token ${JWT}.`, JWT, 'jwt');
  });

  it('reports a JWT after Bearer once, as jwt', () => {
    one(`Authorization: Bearer ${JWT}`, JWT, 'jwt');
  });

  it('finds bearer tokens, value only', () => {
    const tok = 'abcdef123456XYZ';
    one(`Authorization: Bearer ${tok}`, tok, 'bearer_token');
    const long = 'c2VjcmV0LXRva2VuLTEyMzQ1Njc4OTA';
    one(`send it with bearer ${long}.`, long, 'bearer_token');
  });

  it('ignores prose "bearer"', () => {
    expect(sec.scan('the bearer of bad news; bearer bonds; Bearer token required')).toEqual([]);
  });
});

describe('password_assignment', () => {
  it('finds assignments, value only', () => {
    const t = 'password=hunter22 {"password": "s3cr3t pass!"} DB_PASSWORD=\'Tr0ub4dor&3\' Pwd=Zx81yq;';
    expect(spans(sec.scan(t))).toEqual([
      at(t, 'hunter22', 'password_assignment'),
      at(t, 's3cr3t pass!', 'password_assignment'),
      at(t, 'Tr0ub4dor&3', 'password_assignment'),
      at(t, 'Zx81yq', 'password_assignment'),
    ]);
  });

  it('finds credentials in URLs', () => {
    one('postgres://admin:Sup3rS3cret@db:5432/app', 'Sup3rS3cret', 'password_assignment');
  });

  it('ignores placeholders, env references and prose', () => {
    const t = [
      'password: reset it via email',
      'password=*****',
      'password="${DB_PASSWORD}"',
      'password: <your password>',
      'password = null',
      'password=xxxx',
      'pwd: /home/me',
      'password: abc',
      'https://example.com/path',
    ].join('\n');
    expect(sec.scan(t)).toEqual([]);
  });
});

describe('high_entropy', () => {
  it('flags random mixed-class tokens', () => {
    const tok = 'Zx9Qw3Er7Ty1Ui5Op2As8Df4Gh6Jk0';
    one(`random ${tok} here`, tok, 'high_entropy');
  });

  it('flags only the value of a key=value token', () => {
    const tok = 'q8Zr2Lm5Xv7Nc1Bt4Wy6Kp9Hd3';
    one(`API_TOKEN=${tok}`, tok, 'high_entropy');
  });

  it('flags long hex hashes with lower confidence', () => {
    const sha = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
    const [f] = sec.scan(`sha256 ${sha}`);
    expect([f.type, f.start, f.end]).toEqual(['high_entropy', 7, 7 + sha.length]);
    expect(f.confidence).toBeLessThan(0.5);
  });

  it('skips words, identifiers, paths, UUIDs and repetitive strings', () => {
    const t = [
      'internationalization_and_localization_support',
      'thisIsAVeryLongCamelCaseIdentifierName',
      'src/policy/detectors/index',
      '123e4567-e89b-12d3-a456-426614174000',
      'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      'MAX_RETRY_COUNT_FOR_UPSTREAM_REQUESTS',
      '================================',
    ].join(' ');
    expect(sec.scan(t)).toEqual([]);
  });

  it('skips identifiers and slugs that mix in digits', () => {
    const t = 'BetaMemoryTool20250818Command articles/9767949-api-key-best-practices-keeping-your-keys-safe v2AgentToolset20260401BashInput';
    expect(sec.scan(t)).toEqual([]);
  });

  it('judges URL path segments separately', () => {
    const sha = '49ad1a3917a0ea57f5ff248159256e12bb1cb705';
    const t = `see https://github.com/microsoft/TypeScript/blob/${sha}/src/lib/dom.generated.d.ts`;
    const fs = sec.scan(t);
    expect(spans(fs)).toEqual([at(t, sha, 'high_entropy')]);
    expect(fs[0].confidence).toBeLessThan(0.5);
  });

  it('skips data: URL payloads', () => {
    expect(sec.scan('<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==">')).toEqual([]);
  });

  it('skips subresource-integrity hashes', () => {
    expect(sec.scan('"integrity": "sha512-K7iW2LhvEKMdMiE9L6T8HRVHUHsJ4GZNVTn8o4sB0j3kk1ZWH6BVwLQhMxrvmdKbDy3TRnKOhOQrtdFqtiQOtg=="')).toEqual([]);
  });

  it('does not re-report a span covered by a specific type', () => {
    const t = `${GH} ${PEM}`;
    expect(sec.scan(t).map((f) => f.type)).toEqual(['github_token', 'private_key']);
  });
});

describe('shannonEntropy', () => {
  it('computes bits per char', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abab')).toBeCloseTo(1, 10);
    expect(shannonEntropy('abcdefgh')).toBeCloseTo(3, 10);
    expect(shannonEntropy('abcdefgh')).toBeCloseTo(3, 10); // scratch table is reset between calls
  });
});

describe('createSecretsDetector', () => {
  it('returns sorted findings and nothing for benign text', () => {
    expect(sec.scan('')).toEqual([]);
    expect(sec.scan('Please summarise this thread about the password reset flow and bearer auth.')).toEqual([]);
    const t = `${JWT} ${AWS_ID} ${GH}`;
    expect(sec.scan(t).map((f) => f.start)).toEqual([0, JWT.length + 1, JWT.length + AWS_ID.length + 2]);
    for (const f of sec.scan(t)) expect(f.detector).toBe('secrets');
  });
});
