/**
 * Tenants, teams, agents and keys. Creating a key shows its secret once, with a copy button;
 * the gateway keeps only a hash. Objects declared in the YAML file are read-only here
 * (managed_by: 'file') and say so.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { admin, formatTime, type List } from '../api';
import { ErrorState, Notice, Show, useAsync } from '../components/states';
import { usePageTitle } from '../router';

interface Tenant {
  id: string;
  name?: string;
  managed_by?: 'file' | 'api';
  [k: string]: unknown;
}
interface Team {
  id: string;
  managed_by?: 'file' | 'api';
  agents?: Agent[] | string[];
}
interface Agent {
  id: string;
  policy?: string | null;
  managed_by?: 'file' | 'api';
}
interface Key {
  id: string;
  tenant: string;
  team: string | null;
  agent: string;
  /** Identifies the key without revealing it. */
  hint: string | null;
  status: 'active' | 'expired' | 'revoked';
  created_at: string | null;
  expires_at: string | null;
  managed_by: 'file' | 'api';
}
interface CreatedKey extends Key {
  /** The secret: in this answer only. */
  key: string;
}

export function TenantsPage() {
  usePageTitle('Tenants & keys');
  const tenants = useAsync((signal) => admin<List<Tenant>>('/tenants', { signal }), []);
  const [tenant, setTenant] = useState<string | null>(null);
  const tenantSelect = useId();
  useEffect(() => {
    if (!tenant && tenants.data?.data[0]) setTenant(tenants.data.data[0].id);
  }, [tenants.data, tenant]);
  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title" tabIndex={-1}>
          Tenants &amp; keys
        </h1>
      </div>
      <Show state={tenants} isEmpty={(l) => l.data.length === 0} empty={<p>No tenants yet. Declare them in the configuration file or create one through the admin API.</p>}>
        {(l) => (
          <>
            <div className="field inline picker">
              <label htmlFor={tenantSelect}>Tenant</label>
              <select id={tenantSelect} value={tenant ?? ''} onChange={(e) => setTenant(e.target.value)}>
                {l.data.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name ?? t.id}
                    {t.managed_by === 'file' ? ' (file)' : ''}
                  </option>
                ))}
              </select>
            </div>
            {tenant && <TenantDetail key={tenant} tenant={tenant} />}
          </>
        )}
      </Show>
    </section>
  );
}

function ManagedBy({ by }: { by?: string }) {
  return by === 'file' ? (
    <span className="badge" title="Declared in the configuration file: change it there">
      file
    </span>
  ) : by === 'api' ? (
    <span className="badge badge-api">api</span>
  ) : null;
}

function TenantDetail({ tenant }: { tenant: string }) {
  const t = encodeURIComponent(tenant);
  const teams = useAsync(
    async (signal) => {
      const list = await admin<List<Team>>(`/tenants/${t}/teams`, { signal });
      // Agents per team: one call each (a tenant has a handful of teams).
      return Promise.all(
        list.data.map(async (team) => ({
          team,
          agents: (await admin<List<Agent>>(`/tenants/${t}/teams/${encodeURIComponent(team.id)}/agents`, { signal })).data,
        })),
      );
    },
    [tenant],
  );
  const keys = useAsync((signal) => admin<List<Key>>('/keys', { query: { tenant }, signal }), [tenant]);
  return (
    <div className="grid-2">
      <div className="card">
        <h2>Teams and agents</h2>
        <Show state={teams} isEmpty={(d) => d.length === 0} empty={<p>This tenant has no teams.</p>}>
          {(d) => (
            <ul className="tree">
              {d.map(({ team, agents }) => (
                <li key={team.id}>
                  <strong>{team.id}</strong> <ManagedBy by={team.managed_by} />
                  {agents.length === 0 ? (
                    <p className="muted">No agents.</p>
                  ) : (
                    <ul>
                      {agents.map((a) => (
                        <li key={a.id} data-agent={a.id}>
                          {a.id}
                          {a.policy ? <span className="muted"> · policy {a.policy}</span> : null} <ManagedBy by={a.managed_by} />
                        </li>
                      ))}
                    </ul>
                  )}
                </li>
              ))}
            </ul>
          )}
        </Show>
        <CreateAgent tenant={tenant} teams={teams.data?.map((d) => d.team.id) ?? []} onCreated={teams.reload} />
      </div>
      <div className="card">
        <h2>Keys</h2>
        <CreateKey tenant={tenant} agents={teams.data?.flatMap((d) => d.agents.map((a) => ({ team: d.team.id, agent: a.id }))) ?? []} onCreated={keys.reload} />
        <Show state={keys} isEmpty={(l) => l.data.length === 0} empty={<p>No keys for this tenant.</p>}>
          {(l) => <KeyTable keys={l.data} onChanged={keys.reload} />}
        </Show>
      </div>
    </div>
  );
}

function CreateAgent({ tenant, teams, onCreated }: { tenant: string; teams: string[]; onCreated: () => void }) {
  const [team, setTeam] = useState('');
  const [newTeam, setNewTeam] = useState('');
  const [id, setId] = useState('');
  const [policy, setPolicy] = useState('');
  const [state, setState] = useState<{ busy?: boolean; error?: Error; done?: string }>({});
  const ids = { team: useId(), newTeam: useId(), id: useId(), policy: useId() };
  const chosenTeam = team === '__new' || teams.length === 0 ? newTeam.trim() : team || teams[0] || '';
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setState({ busy: true });
    try {
      const t = encodeURIComponent(tenant);
      if (!teams.includes(chosenTeam)) await admin(`/tenants/${t}/teams`, { method: 'POST', body: { id: chosenTeam } });
      await admin(`/tenants/${t}/teams/${encodeURIComponent(chosenTeam)}/agents`, { method: 'POST', body: { id: id.trim(), ...(policy.trim() ? { policy: policy.trim() } : {}) } });
      setState({ done: `Agent ${id.trim()} created in ${tenant}/${chosenTeam}.` });
      setId('');
      onCreated();
    } catch (err) {
      setState({ error: err as Error });
    }
  };
  return (
    <form className="stack" onSubmit={submit} aria-label="Create an agent">
      <h3>Create an agent</h3>
      <div className="field">
        <label htmlFor={ids.team}>Team</label>
        <select id={ids.team} value={team || teams[0] || '__new'} onChange={(e) => setTeam(e.target.value)}>
          {teams.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
          <option value="__new">New team…</option>
        </select>
      </div>
      {(team === '__new' || teams.length === 0) && (
        <div className="field">
          <label htmlFor={ids.newTeam}>New team id</label>
          <input id={ids.newTeam} required value={newTeam} onChange={(e) => setNewTeam(e.target.value)} pattern="[A-Za-z0-9._-]+" />
        </div>
      )}
      <div className="field">
        <label htmlFor={ids.id}>Agent id</label>
        <input id={ids.id} name="agent" required value={id} onChange={(e) => setId(e.target.value)} pattern="[A-Za-z0-9._-]+" />
      </div>
      <div className="field">
        <label htmlFor={ids.policy}>Policy (optional)</label>
        <input id={ids.policy} name="policy" value={policy} onChange={(e) => setPolicy(e.target.value)} />
      </div>
      <button type="submit" className="primary" disabled={state.busy || !id.trim() || !chosenTeam}>
        Create agent
      </button>
      {state.error && <ErrorState error={state.error} />}
      {state.done && <Notice kind="success">{state.done}</Notice>}
    </form>
  );
}

function CreateKey({ tenant, agents, onCreated }: { tenant: string; agents: { team: string; agent: string }[]; onCreated: () => void }) {
  const [target, setTarget] = useState('');
  const [expires, setExpires] = useState('');
  const [state, setState] = useState<{ busy?: boolean; error?: Error; created?: CreatedKey }>({});
  const ids = { target: useId(), expires: useId() };
  const chosen = target || (agents[0] ? `${agents[0].team}/${agents[0].agent}` : '');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const agent = chosen.split('/')[1];
    setState({ busy: true });
    try {
      // An agent id is unique within its tenant: the key names tenant and agent.
      const created = await admin<CreatedKey>('/keys', { method: 'POST', body: { tenant, agent, ...(expires ? { expires_at: new Date(expires).toISOString() } : {}) } });
      setState({ created });
      onCreated();
    } catch (err) {
      setState({ error: err as Error });
    }
  };
  return (
    <form className="stack" onSubmit={submit} aria-label="Create a key">
      <h3>Create a key</h3>
      {agents.length === 0 ? (
        <p className="muted">Create an agent first: a key belongs to an agent.</p>
      ) : (
        <>
          <div className="field">
            <label htmlFor={ids.target}>Agent</label>
            <select id={ids.target} value={chosen} onChange={(e) => setTarget(e.target.value)}>
              {agents.map((a) => (
                <option key={`${a.team}/${a.agent}`} value={`${a.team}/${a.agent}`}>
                  {a.team} / {a.agent}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={ids.expires}>Expires (optional)</label>
            <input id={ids.expires} type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
          </div>
          <button type="submit" className="primary" disabled={state.busy}>
            Create key
          </button>
        </>
      )}
      {state.error && <ErrorState error={state.error} />}
      {state.created && <SecretOnce created={state.created} onDismiss={() => setState({})} />}
    </form>
  );
}

/** The new key's secret, shown once: copy it now, it cannot be shown again. */
function SecretOnce({ created, onDismiss }: { created: CreatedKey; onDismiss: () => void }) {
  const secret = created.key;
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const ref = useRef<HTMLDivElement>(null);
  const secretId = useId();
  useEffect(() => ref.current?.focus(), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <div className="secret card" role="region" aria-label="New key secret" tabIndex={-1} ref={ref}>
      <p>
        <strong>Key {created.id} created.</strong> Copy the secret now: it is shown only once.
      </p>
      <label htmlFor={secretId}>Secret</label>
      <div className="copy-row">
        <input id={secretId} readOnly value={secret} className="mono" onFocus={(e) => e.target.select()} data-testid="new-key-secret" />
        <button type="button" className="primary" onClick={copy}>
          Copy
        </button>
      </div>
      <p role="status" className="muted">
        {copied === 'yes' ? 'Copied to the clipboard.' : copied === 'failed' ? 'Copy failed: select the field and copy it by hand.' : ''}
      </p>
      <button type="button" className="secondary" onClick={onDismiss}>
        I have stored it
      </button>
    </div>
  );
}

function KeyTable({ keys, onChanged }: { keys: Key[]; onChanged: () => void }) {
  const [error, setError] = useState<Error | null>(null);
  const [rotated, setRotated] = useState<CreatedKey | null>(null);
  const act = async (key: Key, verb: 'rotate' | 'revoke') => {
    if (verb === 'revoke' && !window.confirm(`Revoke key ${key.id}? Requests with it fail from now on.`)) return;
    setError(null);
    try {
      const res = await admin<CreatedKey>(`/keys/${encodeURIComponent(key.id)}/${verb}`, { method: 'POST', body: {} });
      if (verb === 'rotate') setRotated(res);
      onChanged();
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <>
      {error && <ErrorState error={error} />}
      {rotated && <SecretOnce created={rotated} onDismiss={() => setRotated(null)} />}
      <div className="table-wrap">
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Agent</th>
              <th scope="col">Status</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => {
              const revoked = k.status === 'revoked';
              return (
                <tr key={k.id}>
                  <th scope="row">
                    <code>{k.id}</code> <ManagedBy by={k.managed_by} />
                    {k.hint ? <div className="muted small-text">{k.hint}</div> : null}
                  </th>
                  <td>
                    {k.team ?? '—'} / {k.agent ?? '—'}
                  </td>
                  <td>{k.status}</td>
                  <td>{k.expires_at ? formatTime(k.expires_at) : 'never'}</td>
                  <td className="row-actions">
                    {k.managed_by !== 'file' && k.status === 'active' && (
                      <div>
                        <button type="button" className="secondary small" onClick={() => act(k, 'rotate')} aria-label={`Rotate key ${k.id}`}>
                          Rotate
                        </button>
                        <button type="button" className="danger small" onClick={() => act(k, 'revoke')} aria-label={`Revoke key ${k.id}`}>
                          Revoke
                        </button>
                      </div>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}
