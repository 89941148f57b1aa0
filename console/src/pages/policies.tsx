/**
 * The policy editor: a policy as YAML, validated by the gateway, dry-run against a sample
 * request (decision, risk, matched rules — nothing is forwarded), published as a new version
 * (applied at once on every replica), and rolled back to any earlier version.
 */
import { useEffect, useId, useState } from 'react';
import { parse, stringify } from 'yaml';
import { admin, formatTime, type List } from '../api';
import { ErrorState, Notice, Show, useAsync } from '../components/states';
import { usePageTitle } from '../router';

interface PolicySummary {
  name: string;
  version?: string;
  policy?: unknown;
  managed_by?: 'file' | 'api';
}
interface PolicyVersion {
  version: string;
  actor?: string | null;
  created_at?: string;
  policy?: unknown;
  current?: boolean;
}
interface PolicyDetail extends PolicySummary {
  versions?: PolicyVersion[];
}
interface DryRun {
  decision?: string;
  outcome?: string;
  risk?: number;
  risk_score?: number;
  matched_rules?: unknown[];
  [k: string]: unknown;
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
  const [sample, setSample] = useState({ tenant: '', model: '', content: 'Hello! Summarise our Q3 plan.' });
  const ids = { editor: useId(), tenant: useId(), model: useId(), content: useId() };

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
      const res = await admin<{ valid?: boolean; errors?: unknown[] }>('/policies/validate', { method: 'POST', body: { policy: parsed() } });
      if (res.valid === false) setResult({ kind: 'error', text: `Invalid: ${JSON.stringify(res.errors ?? res)}` });
      else setResult({ kind: 'success', text: 'The policy is valid.' });
    });
  const dryRun = () =>
    run('Dry run', async () => {
      const res = await admin<DryRun>('/policies/dry-run', {
        method: 'POST',
        body: { policy: parsed(), name, request: { tenant: sample.tenant || undefined, model: sample.model || undefined, messages: [{ role: 'user', content: sample.content }] } },
      });
      setDry(res);
    });
  const publish = () =>
    run('Publishing', async () => {
      const res = await admin<PolicySummary>(`/policies/${encodeURIComponent(name)}/versions`, { method: 'POST', body: { policy: parsed() } });
      setResult({ kind: 'success', text: `Published version ${res.version ?? ''}: it applies to the next request.` });
      detail.reload();
      onPublished();
    });
  const rollback = (version: string) =>
    run('Rollback', async () => {
      const res = await admin<PolicySummary>(`/policies/${encodeURIComponent(name)}/rollback`, { method: 'POST', body: { version } });
      setResult({ kind: 'success', text: `Rolled back: version ${res.version ?? version} is current.` });
      setText(res.policy ? stringify(res.policy) : null);
      detail.reload();
    });

  const fileManaged = detail.data?.managed_by === 'file';
  return (
    <Show state={detail}>
      {(d) => (
        <div className="grid-2 policy">
          <div className="card">
            <h2>
              {name} <span className="muted">version {d.version ?? '—'}</span>
            </h2>
            {fileManaged && <Notice>This policy is declared in the configuration file; publishing here adds a version stored by the gateway.</Notice>}
            <label htmlFor={ids.editor}>Policy (YAML)</label>
            <textarea id={ids.editor} className="code" rows={18} spellCheck={false} value={text ?? ''} onChange={(e) => setText(e.target.value)} />
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
            {result && <Notice kind={result.kind}>{result.text}</Notice>}
          </div>
          <div className="stack">
            <div className="card">
              <h2>Dry run</h2>
              <div className="field">
                <label htmlFor={ids.tenant}>Tenant</label>
                <input id={ids.tenant} value={sample.tenant} onChange={(e) => setSample({ ...sample, tenant: e.target.value })} />
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
                    Decision: <strong className={`outcome outcome-${String(dry.decision ?? dry.outcome ?? '').toLowerCase()}`}>{String(dry.decision ?? dry.outcome ?? '—')}</strong>, risk{' '}
                    {Number(dry.risk ?? dry.risk_score ?? 0).toFixed(2)}
                  </p>
                  <p>Matched rules: {(dry.matched_rules ?? []).map((r) => (typeof r === 'string' ? r : ((r as { id?: string }).id ?? JSON.stringify(r)))).join(', ') || 'none'}</p>
                </div>
              )}
            </div>
            <div className="card">
              <h2>Versions</h2>
              <Versions name={name} versions={d.versions} current={d.version} onRollback={rollback} busy={busy} />
            </div>
          </div>
        </div>
      )}
    </Show>
  );
}

function Versions({ name, versions, current, onRollback, busy }: { name: string; versions?: PolicyVersion[]; current?: string; onRollback: (v: string) => void; busy: boolean }) {
  // The detail may embed its versions; otherwise they come from /versions.
  const fetched = useAsync(async (signal) => (versions ? { object: 'list' as const, data: versions } : admin<List<PolicyVersion>>(`/policies/${encodeURIComponent(name)}/versions`, { signal })), [name, versions]);
  if (fetched.error) return <ErrorState error={fetched.error} retry={fetched.reload} />;
  return (
    <Show state={fetched} isEmpty={(l) => l.data.length === 0} empty={<p>Only the version from the configuration file exists.</p>}>
      {(l) => (
        <ol className="versions" reversed>
          {l.data.map((v) => (
            <li key={v.version}>
              <code>{v.version}</code> {v.actor ? `by ${v.actor}` : ''} {v.created_at ? formatTime(v.created_at) : ''}{' '}
              {v.version === current || v.current ? (
                <span className="badge">current</span>
              ) : (
                <button type="button" className="secondary small" onClick={() => onRollback(v.version)} disabled={busy} aria-label={`Roll back to version ${v.version}`}>
                  Roll back
                </button>
              )}
            </li>
          ))}
        </ol>
      )}
    </Show>
  );
}
