/**
 * Providers with their circuit state, and the models routed to them. Credentials are write-only:
 * an admin can set a provider's credential here; it is never shown back.
 */
import { useId, useState, type FormEvent } from 'react';
import { admin, formatTime, type List } from '../api';
import { canWrite, useSession } from '../app';
import { ErrorState, Notice, Show, useAsync } from '../components/states';
import { usePageTitle } from '../router';

interface Provider {
  name: string;
  type: string;
  base_url: string | null;
  /** file: the deployment file gives the key (read-only here); api: set here; none: missing. */
  credential: { source: 'file' | 'api' | 'none'; updated_at: string | null };
  managed_by: 'file';
}

function ManagedBy({ by }: { by?: string }) {
  return by ? <span className={`badge${by === 'api' ? ' badge-api' : ''}`}>{by}</span> : null;
}

interface Model {
  id: string;
  config: { provider?: string; model?: string; price?: { input?: number; output?: number }; [k: string]: unknown };
  available: boolean;
  managed_by: 'file' | 'api';
}

/** GET /health: every provider with the circuit state of each of its deployments. */
interface Health {
  status: string;
  providers: { name: string; type: string; deployments: { id: string; circuit: string; in_flight: number; queued: number; opened: number }[] }[];
}

export function ProvidersPage() {
  usePageTitle('Providers');
  const session = useSession();
  const admin_ = canWrite(session);
  // Circuit states come from /health (admins and auditors); what is configured from /providers (admins).
  const health = useAsync((signal) => admin<Health>('/health', { signal }), []);
  const providers = useAsync((signal) => (admin_ ? admin<List<Provider>>('/providers', { signal }) : Promise.resolve({ object: 'list' as const, data: [] })), [admin_]);
  const models = useAsync((signal) => (admin_ ? admin<List<Model>>('/models', { signal }) : Promise.resolve({ object: 'list' as const, data: [] as Model[] })), [admin_]);
  const configured = new Map((providers.data?.data ?? []).map((p) => [p.name, p]));
  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title" tabIndex={-1}>
          Providers
        </h1>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            health.reload();
            providers.reload();
          }}
        >
          Refresh
        </button>
      </div>
      {providers.error && <ErrorState error={providers.error} retry={providers.reload} />}
      <Show state={health} isEmpty={(h) => h.providers.length === 0} empty={<p>No providers are configured.</p>}>
        {(h) => (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Provider</th>
                  <th scope="col">Type</th>
                  <th scope="col">Deployments and circuits</th>
                  {admin_ && <th scope="col">Credential</th>}
                </tr>
              </thead>
              <tbody>
                {h.providers.map((hp) => {
                  const p = configured.get(hp.name);
                  return (
                    <tr key={hp.name}>
                      <th scope="row">
                        {hp.name} <ManagedBy by={p?.managed_by} />
                        {p?.base_url ? <div className="muted small-text">{p.base_url}</div> : null}
                      </th>
                      <td>{hp.type}</td>
                      <td>
                        {hp.deployments.length === 0 ? (
                          <span className="muted">no traffic yet</span>
                        ) : (
                          <ul className="deployments">
                            {hp.deployments.map((d) => (
                              <li key={d.id}>
                                <span className={`circuit circuit-${d.circuit.replace(/[^a-z_-]/gi, '')}`}>{d.circuit}</span> {d.id.slice(hp.name.length + 1) || d.id}
                                <span className="muted small-text">
                                  {' '}
                                  · {d.in_flight} in flight, {d.queued} queued{d.opened ? `, opened ${d.opened}×` : ''}
                                </span>
                              </li>
                            ))}
                          </ul>
                        )}
                      </td>
                      {admin_ && (
                        <td>
                          {p ? (p.credential.source === 'file' ? 'from the file' : p.credential.source === 'api' ? `set ${p.credential.updated_at ? formatTime(p.credential.updated_at) : ''} ` : 'missing ') : ''}
                          {p && p.credential.source !== 'file' ? <SetCredential provider={hp.name} onSet={providers.reload} /> : null}
                        </td>
                      )}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Show>
      {admin_ && <h2>Models</h2>}
      {admin_ && <Show state={models} isEmpty={(l) => l.data.length === 0} empty={<p>No models are configured.</p>}>
        {(l) => (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Upstream model</th>
                  <th scope="col">Price per 1M tokens (in / out)</th>
                  <th scope="col">Available</th>
                </tr>
              </thead>
              <tbody>
                {l.data.map((m) => (
                  <tr key={m.id}>
                    <th scope="row">
                      {m.id} <ManagedBy by={m.managed_by} />
                    </th>
                    <td>{m.config.provider ?? '—'}</td>
                    <td>{m.config.model ?? '—'}</td>
                    <td>{m.config.price ? `$${m.config.price.input ?? 0} / $${m.config.price.output ?? 0}` : '—'}</td>
                    <td>{m.available ? 'yes' : 'no'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Show>}
    </section>
  );
}

function SetCredential({ provider, onSet }: { provider: string; onSet: () => void }) {
  const [open, setOpen] = useState(false);
  const [value, setValue] = useState('');
  const [state, setState] = useState<{ busy?: boolean; error?: Error; done?: boolean }>({});
  const inputId = useId();
  if (!open)
    return (
      <button type="button" className="secondary small" onClick={() => setOpen(true)} aria-label={`Set the credential of ${provider}`}>
        Set credential
      </button>
    );
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setState({ busy: true });
    try {
      await admin(`/providers/${encodeURIComponent(provider)}/credential`, { method: 'PUT', body: { api_key: value } });
      setValue('');
      setState({ done: true });
      onSet();
    } catch (err) {
      setState({ error: err as Error });
    }
  };
  return (
    <form onSubmit={submit} className="inline-form" aria-label={`Credential of ${provider}`}>
      <label htmlFor={inputId} className="visually-hidden">
        New API key for {provider}
      </label>
      <input id={inputId} type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} required />
      <button type="submit" className="primary small" disabled={state.busy || !value}>
        Save
      </button>
      <button type="button" className="secondary small" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {state.error && <ErrorState error={state.error} />}
      {state.done && <Notice kind="success">Saved. It is never shown again.</Notice>}
    </form>
  );
}
