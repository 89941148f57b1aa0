/**
 * The audit explorer: search with filters (tenant, outcome, model, agent, time, text), page
 * through results, open a record to see every signal it holds, verify the hash chains, export.
 * Filters live in the URL so a search can be shared and the back button works.
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import { admin, formatTime, formatUsd, withQuery, type AuditRecord, type List } from '../api';
import { ErrorState, Notice, Show, useAsync } from '../components/states';
import { Link, navigate, usePageTitle, useSearch } from '../router';

const FILTERS = [
  { name: 'q', label: 'Search text', placeholder: 'decision id, key, rule…', type: 'search' },
  { name: 'tenant', label: 'Tenant', placeholder: 'acme', type: 'text' },
  { name: 'agent', label: 'Agent', placeholder: 'bot', type: 'text' },
  { name: 'model', label: 'Model', placeholder: 'gpt-4o', type: 'text' },
  { name: 'from', label: 'From', placeholder: '', type: 'datetime-local' },
  { name: 'to', label: 'To', placeholder: '', type: 'datetime-local' },
] as const;
const OUTCOMES = ['', 'allow', 'review', 'block'];
const KINDS = [
  { value: '', label: 'requests' },
  { value: 'admin', label: 'admin events' },
  { value: 'all', label: 'everything' },
];

type Filters = Record<string, string>;

function fromSearch(search: URLSearchParams): Filters {
  const f: Filters = {};
  for (const k of ['q', 'tenant', 'agent', 'model', 'from', 'to', 'outcome', 'kind']) f[k] = search.get(k) ?? '';
  return f;
}

/** datetime-local values are local time without zone: sent as ISO instants. */
function apiQuery(f: Filters): Record<string, string> {
  const q: Record<string, string> = {};
  for (const [k, v] of Object.entries(f)) {
    if (!v) continue;
    q[k] = (k === 'from' || k === 'to') && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : v;
  }
  return q;
}

export function AuditPage({ selected }: { selected: string | null }) {
  usePageTitle(selected ? `Audit record ${selected}` : 'Audit');
  return selected ? <AuditRecordPage id={selected} /> : <AuditSearch />;
}

function AuditSearch() {
  const search = useSearch();
  const applied = fromSearch(search);
  const [draft, setDraft] = useState<Filters>(applied);
  const key = JSON.stringify(applied);
  useEffect(() => setDraft(JSON.parse(key) as Filters), [key]);
  const [pages, setPages] = useState<List<AuditRecord & { seq?: number }>[]>([]);
  const [moreError, setMoreError] = useState<Error | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const first = useAsync(
    async (signal) => {
      const page = await admin<List<AuditRecord>>('/audit', { query: { ...apiQuery(applied), limit: 50 }, signal });
      setPages([page]);
      return page;
    },
    [key],
  );
  const outcomeId = useId();
  const kindId = useId();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(draft)) if (v) params.set(k, v);
    const s = params.toString();
    navigate(s ? `/audit?${s}` : '/audit');
  };

  const more = async () => {
    const cursor = pages.at(-1)?.next_cursor;
    if (!cursor) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await admin<List<AuditRecord>>('/audit', { query: { ...apiQuery(applied), limit: 50, cursor } });
      setPages((p) => [...p, page]);
    } catch (err) {
      setMoreError(err as Error);
    } finally {
      setLoadingMore(false);
    }
  };

  const rows = pages.flatMap((p) => p.data);
  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title" tabIndex={-1}>
          Audit
        </h1>
        <a className="button secondary" href={withQuery('/admin/v1/audit/export', { format: 'jsonl', from: apiQuery(applied).from, to: apiQuery(applied).to, tenant: applied.tenant, kind: applied.kind })} download>
          Export JSONL
        </a>
        <a className="button secondary" href={withQuery('/admin/v1/audit/export', { format: 'csv', from: apiQuery(applied).from, to: apiQuery(applied).to, tenant: applied.tenant, kind: applied.kind })} download>
          Export CSV
        </a>
      </div>
      <ChainCheck tenant={applied.tenant || undefined} />
      <form className="filters card" onSubmit={submit} role="search" aria-label="Audit records">
        {FILTERS.map((f) => (
          <div className="field" key={f.name}>
            <label htmlFor={`audit-${f.name}`}>{f.label}</label>
            <input id={`audit-${f.name}`} name={f.name} type={f.type} placeholder={f.placeholder || undefined} value={draft[f.name] ?? ''} onChange={(e) => setDraft({ ...draft, [f.name]: e.target.value })} />
          </div>
        ))}
        <div className="field">
          <label htmlFor={outcomeId}>Outcome</label>
          <select id={outcomeId} value={draft.outcome ?? ''} onChange={(e) => setDraft({ ...draft, outcome: e.target.value })}>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {o || 'any'}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={kindId}>Records</label>
          <select id={kindId} value={draft.kind ?? ''} onChange={(e) => setDraft({ ...draft, kind: e.target.value })}>
            {KINDS.map((k) => (
              <option key={k.value} value={k.value}>
                {k.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field actions-field">
          <button type="submit" className="primary">
            Search
          </button>
        </div>
      </form>
      <Show state={first} isEmpty={(p) => p.data.length === 0} empty={<p>No audit records match these filters.</p>}>
        {() => (
          <>
            <div className="table-wrap">
              <table className="table">
                <caption className="visually-hidden">Audit records, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Decision</th>
                    <th scope="col">Tenant / agent</th>
                    <th scope="col">Model or action</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">Status</th>
                    <th scope="col">Cost</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={`${r.decision_id}-${String(r.seq ?? r.kind ?? '')}`}>
                      <td>{formatTime(r.received_at as string)}</td>
                      <td>
                        <Link to={`/audit/${encodeURIComponent(r.decision_id)}`}>{r.decision_id}</Link>
                      </td>
                      <td>
                        {String(r.tenant_id ?? '—')} / {String(r.agent_id ?? '—')}
                      </td>
                      <td>{r.kind === 'admin' ? `${String(r.action)} (by ${String((r.actor as { id?: string } | undefined)?.id ?? '?')})` : String(r.model_resolved ?? r.model_requested ?? '—')}</td>
                      <td>
                        <span className={`outcome outcome-${String(r.policy_outcome ?? '').toLowerCase()}`}>{String(r.policy_outcome || r.kind || '—')}</span>
                      </td>
                      <td>{r.http_status ? String(r.http_status) : '—'}</td>
                      <td>{typeof r.cost_usd === 'number' ? formatUsd(r.cost_usd) : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {moreError && <ErrorState error={moreError} retry={more} />}
            {pages.at(-1)?.next_cursor ? (
              <button type="button" className="secondary" onClick={more} disabled={loadingMore}>
                {loadingMore ? 'Loading…' : 'Load more'}
              </button>
            ) : (
              <p className="muted">{rows.length} record{rows.length === 1 ? '' : 's'}.</p>
            )}
          </>
        )}
      </Show>
    </section>
  );
}

interface Verdict {
  ok: boolean;
  chains: { chain: string; records: number; head_seq?: number; head_hash?: string; broken: unknown }[];
}

function ChainCheck({ tenant }: { tenant?: string }) {
  const [state, setState] = useState<{ busy: boolean; verdict?: Verdict; error?: Error }>({ busy: false });
  const verify = async () => {
    setState({ busy: true });
    try {
      setState({ busy: false, verdict: await admin<Verdict>('/audit/verify', { query: { tenant } }) });
    } catch (err) {
      setState({ busy: false, error: err as Error });
    }
  };
  return (
    <div className="chain-check">
      <button type="button" className="secondary" onClick={verify} disabled={state.busy}>
        {state.busy ? 'Verifying…' : tenant ? `Verify the chain of ${tenant}` : 'Verify the hash chains'}
      </button>
      {state.error && <ErrorState error={state.error} retry={verify} />}
      {state.verdict && (
        <Notice kind={state.verdict.ok ? 'success' : 'error'}>
          {state.verdict.ok ? 'Chain intact: ' : 'Chain BROKEN: '}
          {state.verdict.chains.map((c) => `${c.chain} (${c.records} records${c.broken ? `, broken: ${JSON.stringify(c.broken)}` : ''})`).join('; ') || 'no records yet'}
        </Notice>
      )}
    </div>
  );
}

/** Every signal of one decision (or admin event), and the rows stored under its id. */
function AuditRecordPage({ id }: { id: string }) {
  const state = useAsync((signal) => admin<{ record: AuditRecord; rows: { kind: string; seq: number; chain_seq: number; record_hash: string }[] }>(`/audit/${encodeURIComponent(id)}`, { signal }), [id]);
  return (
    <section aria-labelledby="page-title">
      <p>
        <Link to="/audit">← Back to the audit search</Link>
      </p>
      <h1 id="page-title" tabIndex={-1}>
        Audit record <code>{id}</code>
      </h1>
      <Show state={state}>
        {(d) => (
          <>
            <div className="card">
              <h2>{String(d.record.kind ?? 'record')} record</h2>
              <Signals record={d.record} />
            </div>
            <div className="card">
              <h2>Rows in the hash chain</h2>
              <div className="table-wrap">
                <table className="table compact">
                  <thead>
                    <tr>
                      <th scope="col">Kind</th>
                      <th scope="col">Sequence</th>
                      <th scope="col">Chain position</th>
                      <th scope="col">Record hash</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.rows.map((r) => (
                      <tr key={r.seq}>
                        <th scope="row">{r.kind}</th>
                        <td>{r.seq}</td>
                        <td>{r.chain_seq}</td>
                        <td>
                          <code>{r.record_hash}</code>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
          </>
        )}
      </Show>
    </section>
  );
}

function Signals({ record }: { record: Record<string, unknown> }) {
  return (
    <dl className="signals">
      {Object.entries(record).map(([k, v]) => (
        <div key={k} className="signal">
          <dt>{k}</dt>
          <dd>{v === null || v === undefined ? <span className="muted">null</span> : typeof v === 'object' ? <code>{JSON.stringify(v)}</code> : String(v)}</dd>
        </div>
      ))}
    </dl>
  );
}
