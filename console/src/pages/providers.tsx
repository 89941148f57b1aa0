/**
 * Providers with their circuit state, and the models routed to them. Credentials are write-only:
 * an admin can set a provider's credential here; it is never shown back.
 */
import { useId, useState, type FormEvent } from 'react';
import { admin, type List } from '../api';
import { canWrite, useSession } from '../app';
import { ErrorState, Notice, Show, useAsync } from '../components/states';
import { usePageTitle } from '../router';

interface Provider {
  name: string;
  type?: string;
  base_url?: string;
  circuit?: { state?: string; failures?: number; opened_at?: string | null } | string;
  circuit_state?: string;
  credential_set?: boolean;
  managed_by?: 'file' | 'api';
  [k: string]: unknown;
}
interface Model {
  name?: string;
  id?: string;
  provider?: string;
  model?: string;
  upstream_model?: string;
  price?: { input?: number; output?: number };
  managed_by?: 'file' | 'api';
}

function circuitOf(p: Provider): string {
  if (typeof p.circuit === 'string') return p.circuit;
  return p.circuit?.state ?? p.circuit_state ?? 'unknown';
}

export function ProvidersPage() {
  usePageTitle('Providers');
  const session = useSession();
  const admin_ = canWrite(session);
  const providers = useAsync((signal) => admin<List<Provider>>('/providers', { signal }), []);
  const models = useAsync((signal) => admin<List<Model>>('/models', { signal }), []);
  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title" tabIndex={-1}>
          Providers
        </h1>
        <button type="button" className="secondary" onClick={providers.reload}>
          Refresh
        </button>
      </div>
      <Show state={providers} isEmpty={(l) => l.data.length === 0} empty={<p>No providers are configured.</p>}>
        {(l) => (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Provider</th>
                  <th scope="col">Type</th>
                  <th scope="col">Circuit</th>
                  <th scope="col">Credential</th>
                  {admin_ && (
                    <th scope="col">
                      <span className="visually-hidden">Set credential</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {l.data.map((p) => {
                  const c = circuitOf(p);
                  return (
                    <tr key={p.name}>
                      <th scope="row">
                        {p.name}
                        {p.base_url ? <div className="muted small-text">{p.base_url}</div> : null}
                      </th>
                      <td>{p.type ?? '—'}</td>
                      <td>
                        <span className={`circuit circuit-${c.replace(/[^a-z_-]/gi, '')}`}>{c.replace('_', '-')}</span>
                      </td>
                      <td>{p.credential_set === undefined ? '—' : p.credential_set ? 'set' : 'not set'}</td>
                      {admin_ && <td>{p.managed_by !== 'file' ? <SetCredential provider={p.name} onSet={providers.reload} /> : <span className="muted">in the file</span>}</td>}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Show>
      <h2>Models</h2>
      <Show state={models} isEmpty={(l) => l.data.length === 0} empty={<p>No models are configured.</p>}>
        {(l) => (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Upstream model</th>
                  <th scope="col">Price per 1M tokens (in / out)</th>
                </tr>
              </thead>
              <tbody>
                {l.data.map((m) => (
                  <tr key={m.name ?? m.id}>
                    <th scope="row">{m.name ?? m.id}</th>
                    <td>{m.provider ?? '—'}</td>
                    <td>{m.upstream_model ?? m.model ?? '—'}</td>
                    <td>{m.price ? `$${m.price.input ?? 0} / $${m.price.output ?? 0}` : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Show>
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
