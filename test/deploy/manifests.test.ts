/**
 * The deployment files parse and keep their promises: the image builds in stages, runs as a
 * non-root user with a health check and no dev dependencies; compose runs two gateways,
 * PostgreSQL and Redis, each with a health check; the Kubernetes manifests run ≥ 2 non-root
 * replicas with readiness and liveness probes, a PodDisruptionBudget, pinned images, and
 * secrets only by reference; the shipped deployment files are valid gateway configurations.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { parseConfigText } from '../../src/config/load.js';

const ROOT = join(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const K8S = ['configmap.yaml', 'deployment.yaml', 'service.yaml', 'pdb.yaml'];
const manifests = K8S.flatMap((f) => parseAllDocuments(read(`deploy/kubernetes/${f}`)).map((d) => d.toJS() as any));
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);

/** A tag that names a version: not `latest`, not absent. */
const pinned = (image: string) => /^[\w./-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$/.test(image) && !/:latest$/.test(image) && /[:@]/.test(image);
/** Things that look like credentials written inline. */
const SECRET_LIKE = /(sk-[A-Za-z0-9]{16,}|omk_[A-Za-z0-9_-]{16,}|adm_[A-Za-z0-9_-]{16,}|postgres(ql)?:\/\/[^$\s:]+:[^$\s@{]+@|password:\s+[^\s$]\S*)/i;
const SECRETS_ENV = { DATABASE_URL: 'postgres://omega:pw@db:5432/omega', REDIS_URL: 'redis://redis:6379', OMEGA_ADMIN_TOKEN: 'adm_test_deploy_token_0123456789ab', OPENAI_API_KEY: 'x', ANTHROPIC_API_KEY: 'x' };

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const instructions = text.split('\n').filter((l) => /^[A-Z]+\s/.test(l));
  const stages = instructions.filter((l) => l.startsWith('FROM '));

  it('builds in stages (npm ci and tsc in the build stage) and runs on a pinned node:20 slim image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(pinned(s.split(/\s+/)[1]!)).toBe(true);
    expect(stages.at(-1)).toMatch(/^FROM node:20[\w.-]*-slim AS runtime$/);
    const build = text.slice(0, text.indexOf(stages.at(-1)!));
    expect(build).toMatch(/npm ci/);
    expect(build).toMatch(/tsc -p tsconfig\.build\.json/);
    expect(build).toMatch(/npm prune --omit=dev/);
  });

  it('runs as a non-root user, with a HEALTHCHECK on /healthz', () => {
    const runtime = instructions.slice(instructions.indexOf(stages.at(-1)!));
    const user = runtime.find((l) => l.startsWith('USER '));
    expect(user).toBeDefined();
    expect(user!.split(/\s+/)[1]).not.toMatch(/^(root|0)$/);
    expect(runtime.findIndex((l) => l.startsWith('USER '))).toBeLessThan(runtime.findIndex((l) => l.startsWith('ENTRYPOINT')));
    expect(text).toMatch(/^HEALTHCHECK .*\\\n.*\/healthz/m);
    // The runtime copies the built output and pruned modules, never the sources or dev tools.
    expect(runtime.filter((l) => l.startsWith('COPY ') && !l.includes('--from=build')).join('\n')).not.toMatch(/\bsrc\b|tsconfig/);
  });

  it('.dockerignore keeps local state and secrets out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', '.git', 'data', '.env', 'omega.yaml']) expect(ignored).toContain(entry);
  });
});

describe('compose.yaml', () => {
  const compose = parse(read('compose.yaml'), { merge: true }) as any;
  const services = compose.services as Record<string, any>;

  it('runs two gateways, PostgreSQL and Redis, each with a health check and a pinned image', () => {
    const gateways = Object.entries(services).filter(([name]) => name.startsWith('gateway'));
    expect(gateways).toHaveLength(2);
    expect(services.postgres.image).toMatch(/^postgres:/);
    expect(services.redis.image).toMatch(/^redis:/);
    for (const [, s] of Object.entries(services)) {
      expect(s.healthcheck?.test).toBeDefined();
      expect(pinned(s.image)).toBe(true);
    }
  });

  it('gateways wait for healthy stores, mount the config read-only, get distinct instance names, and take secrets from the environment', () => {
    const gateways = Object.entries(services).filter(([name]) => name.startsWith('gateway')).map(([, s]) => s);
    for (const g of gateways) {
      expect(g.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
      expect(g.volumes).toContain('./deploy/compose/omega.yaml:/etc/omega/omega.yaml:ro');
      expect(g.healthcheck.test.join(' ')).toContain('/readyz');
      for (const v of Object.values(g.environment as Record<string, string>)) if (/KEY|TOKEN|PASSWORD/.test(String(v))) expect(String(v)).toMatch(/\$\{/);
    }
    expect(new Set(gateways.map((g) => g.environment.OMEGA_INSTANCE)).size).toBe(2);
    expect(read('compose.yaml')).not.toMatch(SECRET_LIKE);
  });

  it('its deployment file is a valid gateway configuration using PostgreSQL and Redis', () => {
    const config = parseConfigText(read('deploy/compose/omega.yaml'), 'deploy/compose/omega.yaml', SECRETS_ENV);
    expect(config.storage.url).toMatch(/^postgres:\/\//);
    expect(config.redis.url).toBe(SECRETS_ENV.REDIS_URL);
    expect(read('deploy/compose/omega.yaml')).not.toMatch(SECRET_LIKE);
  });
});

describe('Kubernetes manifests', () => {
  const [deployment] = byKind('Deployment');
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;

  it('a Deployment of at least 2 replicas with a pinned image, running as non-root', () => {
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(pinned(container.image)).toBe(true);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
  });

  it('readiness on /readyz and liveness on /healthz', () => {
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(30);
  });

  it('secrets only by reference: provider keys, admin token and store URLs from a Secret, nothing inline', () => {
    const env = container.env as { name: string; value?: string; valueFrom?: any }[];
    for (const name of ['OPENAI_API_KEY', 'OMEGA_ADMIN_TOKEN', 'DATABASE_URL', 'REDIS_URL']) {
      const e = env.find((x) => x.name === name);
      expect(e?.valueFrom?.secretKeyRef?.name, name).toBe('omega-secrets');
      expect(e?.value).toBeUndefined();
    }
    expect(env.find((x) => x.name === 'OMEGA_INSTANCE')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(byKind('Secret')).toEqual([]);
    for (const f of K8S) expect(read(`deploy/kubernetes/${f}`).replace(/^\s*#.*$/gm, '')).not.toMatch(SECRET_LIKE);
  });

  it('a Service and a PodDisruptionBudget select the pods; the ConfigMap is mounted and is a valid configuration', () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(byKind('Service')[0].spec.selector).toEqual(labels);
    const [pdb] = byKind('PodDisruptionBudget');
    expect(pdb.spec.selector.matchLabels).toEqual(labels);
    expect(pdb.spec.minAvailable ?? 0).toBeLessThan(deployment.spec.replicas);
    const [cm] = byKind('ConfigMap');
    expect(pod.volumes.find((v: any) => v.configMap)?.configMap.name).toBe(cm.metadata.name);
    expect(container.args).toContain('/etc/omega/omega.yaml');
    const config = parseConfigText(cm.data['omega.yaml'], 'configmap', SECRETS_ENV);
    expect(config.redis.url).toBe(SECRETS_ENV.REDIS_URL);
    expect(config.storage.url).toBe(SECRETS_ENV.DATABASE_URL);
  });

  it('kustomization lists every manifest', () => {
    expect((parse(read('deploy/kubernetes/kustomization.yaml')) as any).resources.sort()).toEqual([...K8S].sort());
  });
});
