/** Spend by tenant, team, agent or model; budgets as bars; the budget alert history. */
import { useId, useState } from 'react';
import { admin, formatTime, formatUsd, type Budget, type List, type SpendRow } from '../api';
import { BudgetBar } from '../components/charts';
import { Show, useAsync } from '../components/states';
import { usePageTitle } from '../router';

const GROUPS = ['tenant', 'team', 'agent', 'model'] as const;
const RANGES = [
  { value: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { value: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { value: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
];

/** A team or agent is named within its tenant (and team): acme / research / bot. */
function rowLabel(r: SpendRow, group: string): string {
  const parts = group === 'model' ? [r.model] : group === 'tenant' ? [r.tenant] : group === 'team' ? [r.tenant, r.team] : [r.tenant, r.team, r.agent];
  const known = parts.map((p) => (p === null || p === undefined || p === '' ? '(none)' : String(p)));
  return known.join(' / ');
}

function rowCost(r: SpendRow): number {
  return Number(r.cost_usd ?? 0);
}

export function SpendPage() {
  usePageTitle('Spend');
  const [group, setGroup] = useState<(typeof GROUPS)[number]>('tenant');
  const [range, setRange] = useState('7d');
  const from = new Date(Date.now() - RANGES.find((r) => r.value === range)!.ms).toISOString().slice(0, 13);
  const spend = useAsync((signal) => admin<List<SpendRow>>('/spend', { query: { group_by: group, from: `${from}:00:00.000Z` }, signal }), [group, from]);
  const budgets = useAsync((signal) => admin<List<Budget>>('/budgets', { signal }), []);
  const alerts = useAsync((signal) => admin<List<Record<string, unknown>>>('/alerts', { signal }), []);
  const groupId = useId();
  const rangeId = useId();
  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title" tabIndex={-1}>
          Spend
        </h1>
        <div className="field inline">
          <label htmlFor={groupId}>Group by</label>
          <select id={groupId} value={group} onChange={(e) => setGroup(e.target.value as (typeof GROUPS)[number])}>
            {GROUPS.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </div>
        <div className="field inline">
          <label htmlFor={rangeId}>Period</label>
          <select id={rangeId} value={range} onChange={(e) => setRange(e.target.value)}>
            {RANGES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <h2>Spend by {group}</h2>
      <Show state={spend} isEmpty={(l) => l.data.length === 0} empty={<p>No spend in this period.</p>}>
        {(l) => {
          const max = Math.max(...l.data.map(rowCost), 0);
          return (
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">{group}</th>
                    <th scope="col">Requests</th>
                    <th scope="col">Tokens in / out</th>
                    <th scope="col">Cost</th>
                    <th scope="col" className="bar-col">
                      <span className="visually-hidden">Share of the largest</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {l.data.map((r, i) => (
                    <tr key={i}>
                      <th scope="row">{rowLabel(r, group)}</th>
                      <td>{r.requests ?? '—'}</td>
                      <td>
                        {typeof r.input_tokens === 'number' ? r.input_tokens.toLocaleString() : '—'} / {typeof r.output_tokens === 'number' ? r.output_tokens.toLocaleString() : '—'}
                      </td>
                      <td>{formatUsd(rowCost(r))}</td>
                      <td className="bar-col" aria-hidden="true">
                        <div className="bar thin">
                          <div className="bar-fill bar-ok" ref={(el) => el?.style.setProperty('width', `${max ? (rowCost(r) / max) * 100 : 0}%`)} />
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </Show>
      <h2>Budgets</h2>
      <Show state={budgets} isEmpty={(l) => l.data.length === 0} empty={<p>No budgets are configured.</p>}>
        {(l) => (
          <div className="budgets">
            {l.data.map((b) => (
              <BudgetBar
                key={`${b.scope}-${b.period ?? ''}`}
                label={`${b.scope} (${b.period})`}
                spent={b.spent_usd}
                reserved={b.reserved_usd}
                limit={b.limit_usd}
                format={formatUsd}
              />
            ))}
          </div>
        )}
      </Show>
      <h2>Alert history</h2>
      <Show state={alerts} isEmpty={(l) => l.data.length === 0} empty={<p>No budget alerts have fired.</p>}>
        {(l) => (
          <ul className="alerts">
            {l.data.map((a, i) => (
              <li key={i}>
                <time dateTime={String(a.at)}>{formatTime(String(a.at))}</time> — <strong>{String(a.scope)}</strong> reached {Math.round(Number(a.threshold) * 100)} % ({formatUsd(Number(a.spent_usd))} of {formatUsd(Number(a.limit_usd))})
              </li>
            ))}
          </ul>
        )}
      </Show>
    </section>
  );
}
