/**
 * The policy editor: a policy as YAML, validated by the gateway, dry-run against a sample
 * request (decision, risk, matched rules — nothing is forwarded), published as a new version
 * (applied at once on every replica), and rolled back to any earlier version.
 */
import { useEffect, useId, useState } from 'react';
import { parse, stringify } from 'yaml';
import { admin, formatTime, type List } from '../api';
import { canWrite, useSession } from '../app';
import { Notice, Show, useAsync } from '../components/states';
import { usePageTitle } from '../router';

interface PolicySummary {
  name: string;
  version: string;
  /** file: the configuration's version is in force; api: a version published here. */
  source: 'file' | 'api';
  used_by: string[];
  policy: unknown;
}
interface PolicyVersion {
  version: string;
  actor: string;
  created_at: string;
  policy: unknown;
}
interface PolicyDetail extends PolicySummary {
  versions?: PolicyVersion[];
}
interface DryRun {
  policy: { name: string | null; version: string | null };
  outcome: 'ALLOW' | 'REVIEW' | 'BLOCK';
  risk: { score: number; factors: unknown[] };
  matched_rules: { id: string; action: string; shadow: boolean }[];
  redactions: unknown[];
  errors: string[];
}

export function PoliciesPage() {
  usePageTitle('Policies');
  const list = useAsync((signal) => admin<List<PolicySummary>>('/policies', { signal }), []);
  const [name, setName] = useState<string | null>(null);
  const selectId = useId();
  useEffect(() => {
    if (!name && list.data?.data[0]) setName(list.data.data[0].name);
  }, [list.data, name]);
  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title" tabIndex={-1}>
          Policies
        </h1>
      </div>
      <Show state={list} isEmpty={(l) => l.data.length === 0} empty={<p>No policies are defined.</p>}>
        {(l) => (
          <>
            <div className="field inline picker">
              <label htmlFor={selectId}>Policy</label>
              <select id={selectId} value={name ?? ''} onChange={(e) => setName(e.target.value)}>
                {l.data.map((p) => (
                  <option key={p.name} value={p.name}>
                    {p.name}
                  </option>
                ))}
              </select>
            </div>
            {name && <PolicyEditor key={name} name={name} onPublished={list.reload} />}
          </>
        )}
      </Show>
    </section>
  );
}

function PolicyEditor({ name, onPublished }: { name: string; onPublished: () => void }) {
  const detail = useAsync((signal) => admin<PolicyDetail>(`/policies/${encodeURIComponent(name)}`, { signal }), [name]);
  const [text, setText] = useState<string | null>(null);
  const [result, setResult] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const [dry, setDry] = useState<DryRun | null>(null);
  const [busy, setBusy] = useState(false);
  const [sample, setSample] = useState({ tenant: '', agent: '', model: '', content: 'Hello! Summarise our Q3 plan.' });
  const ids = { editor: useId(), tenant: useId(), agent: useId(), model: useId(), content: useId() };
  const writable = canWrite(useSession());

  useEffect(() => {
    if (detail.data && text === null) setText(stringify(detail.data.policy ?? {}));
  }, [detail.data, text]);

  const parsed = (): unknown => {
    try {
      return parse(text ?? '');
    } catch (err) {
      throw new Error(`The YAML does not parse: ${(err as Error).message}`);
    }
  };
  const run = async (what: string, fn: () => Promise<void>) => {
    setBusy(true);
    setResult(null);
    try {
      await fn();
    } catch (err) {
      setResult({ kind: 'error', text: `${what} failed: ${(err as Error).message}` });
    } finally {
      setBusy(false);
    }
  };
  const validate = () =>
    run('Validation', async () => {
      const res = await admin<{ valid: boolean; version?: string; errors: { path: string; message: string }[] }>('/policies/validate', { method: 'POST', body: { policy: parsed(), name } });
      if (!res.valid) setResult({ kind: 'error', text: `Invalid: ${res.errors.map((e) => `${e.path || '(policy)'}: ${e.message}`).join('; ')}` });
      else setResult({ kind: 'success', text: `The policy is valid (it would be version ${res.version ?? '—'}).` });
    });
  const dryRun = () =>
    run('Dry run', async () => {
      const res = await admin<DryRun>('/policies/dry-run', {
        method: 'POST',
        body: { policy: parsed(), name, request: { tenant: sample.tenant, model: sample.model, ...(sample.agent ? { agent: sample.agent } : {}), messages: [{ role: 'user', content: sample.content }] } },
      });
      setDry(res);
    });
  const publish = () =>
    run('Publishing', async () => {
      const res = await admin<PolicySummary>(`/policies/${encodeURIComponent(name)}/versions`, { method: 'POST', body: { policy: parsed() } });
      setResult({ kind: 'success', text: `Published version ${res.version}: it applies to the next request.` });
      detail.reload();
      onPublished();
    });
  const rollback = (version: string) =>
    run('Rollback', async () => {
      const res = await admin<PolicySummary>(`/policies/${encodeURIComponent(name)}/rollback`, { method: 'POST', body: { version } });
      setResult({ kind: 'success', text: `Rolled back: version ${res.version} is in force.` });
      setText(stringify(res.policy ?? {}));
      detail.reload();
    });

  const fileManaged = detail.data?.source === 'file';
  return (
    <Show state={detail}>
      {(d) => (
        <div className="grid-2 policy">
          <div className="card">
            <h2>
              {name} <span className="muted">version {d.version ?? '—'}</span>
            </h2>
            <p className="muted">
              {fileManaged ? 'The version from the configuration file is in force; publishing here adds a version stored by the gateway.' : 'A version published through the console or API is in force.'}
              {d.used_by.length ? ` Used by ${d.used_by.join(', ')}.` : ' Not used by any tenant, team or agent.'}
            </p>
            <label htmlFor={ids.editor}>Policy (YAML)</label>
            <textarea id={ids.editor} className="code" rows={18} spellCheck={false} value={text ?? ''} onChange={(e) => setText(e.target.value)} readOnly={!writable} />
            {writable && (
            <div className="actions">
              <button type="button" className="secondary" onClick={validate} disabled={busy}>
                Validate
              </button>
              <button type="button" className="secondary" onClick={dryRun} disabled={busy}>
                Dry run
              </button>
              <button type="button" className="primary" onClick={publish} disabled={busy}>
                Publish
              </button>
            </div>
            )}
            {result && <Notice kind={result.kind}>{result.text}</Notice>}
          </div>
          <div className="stack">
            {writable && (
            <div className="card">
              <h2>Dry run</h2>
              <div className="field">
                <label htmlFor={ids.tenant}>Tenant</label>
                <input id={ids.tenant} value={sample.tenant} onChange={(e) => setSample({ ...sample, tenant: e.target.value })} />
              </div>
              <div className="field">
                <label htmlFor={ids.agent}>Agent (optional)</label>
                <input id={ids.agent} value={sample.agent} onChange={(e) => setSample({ ...sample, agent: e.target.value })} />
              </div>
              <div className="field">
                <label htmlFor={ids.model}>Model</label>
                <input id={ids.model} value={sample.model} onChange={(e) => setSample({ ...sample, model: e.target.value })} />
              </div>
              <div className="field">
                <label htmlFor={ids.content}>User message</label>
                <textarea id={ids.content} rows={3} value={sample.content} onChange={(e) => setSample({ ...sample, content: e.target.value })} />
              </div>
              {dry && (
                <div className="dry-result" role="status">
                  <p>
                    Decision: <strong className={`outcome outcome-${dry.outcome.toLowerCase()}`}>{dry.outcome}</strong>, risk {dry.risk.score.toFixed(2)}
                    {dry.redactions.length ? `, ${dry.redactions.length} redaction${dry.redactions.length === 1 ? '' : 's'}` : ''}
                  </p>
                  <p>Matched rules: {dry.matched_rules.map((r) => `${r.id} → ${r.action}${r.shadow ? ' (shadow)' : ''}`).join(', ') || 'none'}</p>
                  {dry.errors.length > 0 && <p>Errors: {dry.errors.join('; ')}</p>}
                </div>
              )}
            </div>
            )}
            <div className="card">
              <h2>Versions</h2>
              <Versions versions={d.versions ?? []} current={d.version} onRollback={writable ? rollback : undefined} busy={busy} />
            </div>
          </div>
        </div>
      )}
    </Show>
  );
}

function Versions({ versions, current, onRollback, busy }: { versions: PolicyVersion[]; current: string; onRollback?: (v: string) => void; busy: boolean }) {
  if (versions.length === 0) return <p className="muted">Only the version from the configuration file exists.</p>;
  return (
    <ol className="versions" reversed>
      {versions.map((v) => (
        <li key={v.version}>
          <code>{v.version}</code> by {v.actor}, {formatTime(v.created_at)}{' '}
          {v.version === current ? (
            <span className="badge">in force</span>
          ) : onRollback ? (
            <button type="button" className="secondary small" onClick={() => onRollback(v.version)} disabled={busy} aria-label={`Roll back to version ${v.version}`}>
              Roll back
            </button>
          ) : null}
        </li>
      ))}
    </ol>
  );
}
