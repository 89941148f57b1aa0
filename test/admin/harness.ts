/**
 * A gateway for the admin API tests: the base test config (tenants acme and globex on a fake
 * OpenAI upstream) with admin tokens of every role and scope, and a caller for /admin/v1.
 */
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { baseConfig, startTestGateway, type TestGateway } from '../support/gateway.js';

export const TOKENS = {
  admin: 'adm_root_token_for_admin_api_tests_0123456789',
  acmeAdmin: 'adm_acme_token_for_admin_api_tests_0123456789',
  reviewer: 'adm_reviewer_any_for_admin_api_tests_012345',
  acmeReviewer: 'adm_reviewer_acme_for_admin_api_tests_01234',
  globexReviewer: 'adm_reviewer_globex_for_admin_api_tests_0123',
  auditor: 'adm_auditor_token_for_admin_api_tests_0123456',
} as const;

export type Who = keyof typeof TOKENS;

export const ADMIN_TOKENS_YAML = `
admin:
  tokens:
    - { id: root, token: "${TOKENS.admin}" }
    - { id: acme-admin, token: "${TOKENS.acmeAdmin}", tenant: acme }
    - { id: rita, token: "${TOKENS.reviewer}", role: reviewer }
    - { id: ada, token: "${TOKENS.acmeReviewer}", role: reviewer, tenant: acme }
    - { id: gus, token: "${TOKENS.globexReviewer}", role: reviewer, tenant: globex }
    - { id: audrey, token: "${TOKENS.auditor}", role: auditor }
`;

export interface AdminHarness {
  gw: TestGateway;
  upstream: FakeOpenAI;
  /** Calls /admin/v1 as `who` (a role name of TOKENS, a raw token string, or null for none). */
  call(who: Who | { token: string } | null, method: string, path: string, body?: unknown): Promise<{ status: number; json: any; headers: Headers; text: string }>;
  stop(): Promise<void>;
}

export async function startAdminHarness(extra = '', edit: (yaml: string) => string = (y) => y): Promise<AdminHarness> {
  const upstream = await startFakeOpenAI();
  const gw = await startTestGateway(edit(baseConfig(upstream.baseUrl, ADMIN_TOKENS_YAML + extra)));
  return {
    gw,
    upstream,
    async call(who, method, path, body) {
      const headers: Record<string, string> = {};
      const token = who === null ? undefined : typeof who === 'string' ? TOKENS[who] : who.token;
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${gw.url}/admin/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json, headers: res.headers, text };
    },
    async stop() {
      await gw.stop();
      await upstream.close();
    },
  };
}
