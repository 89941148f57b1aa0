/** Overview: requests, outcomes, cost and latency over a window (GET /admin/v1/overview). */
import { useId, useState } from 'react';
import { admin, formatUsd, type Overview } from '../api';
import { LineChart } from '../components/charts';
import { Show, useAsync } from '../components/states';
import { usePageTitle } from '../router';

const WINDOWS = [
  { value: '1h', label: 'Last hour' },
  { value: '24h', label: 'Last 24 hours' },
  { value: '7d', label: 'Last 7 days' },
];

function bucketLabel(start: string, window: string): string {
  const d = new Date(start);
  return window === '7d' ? d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' }) : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

export function OverviewPage() {
  usePageTitle('Overview');
  const [window, setWindow] = useState('24h');
  const state = useAsync((signal) => admin<Overview>('/overview', { query: { window }, signal }), [window]);
  const selectId = useId();
  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title" tabIndex={-1}>
          Overview
        </h1>
        <div className="field inline">
          <label htmlFor={selectId}>Window</label>
          <select id={selectId} value={window} onChange={(e) => setWindow(e.target.value)}>
            {WINDOWS.map((w) => (
              <option key={w.value} value={w.value}>
                {w.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <Show state={state} isEmpty={(o) => o.totals.requests === 0} empty={<p>No requests in this window yet. Send one through the gateway and it shows up here.</p>}>
        {(o) => {
          const labels = o.buckets.map((b) => bucketLabel(b.start, o.window));
          return (
            <>
              <dl className="stats">
                <div>
                  <dt>Requests</dt>
                  <dd>{o.totals.requests.toLocaleString()}</dd>
                </div>
                <div>
                  <dt>Allowed</dt>
                  <dd>{o.totals.allow.toLocaleString()}</dd>
                </div>
                <div>
                  <dt>Reviewed</dt>
                  <dd>{o.totals.review.toLocaleString()}</dd>
                </div>
                <div>
                  <dt>Blocked</dt>
                  <dd>{o.totals.block.toLocaleString()}</dd>
                </div>
                <div>
                  <dt>Errors</dt>
                  <dd>{o.totals.errors.toLocaleString()}</dd>
                </div>
                <div>
                  <dt>Cost</dt>
                  <dd>{formatUsd(o.totals.cost_usd)}</dd>
                </div>
              </dl>
              <div className="charts">
                <LineChart title="Requests" labels={labels} series={[{ name: 'Requests', className: 'series-1', values: o.buckets.map((b) => b.requests) }]} />
                <LineChart
                  title="Outcomes"
                  labels={labels}
                  series={[
                    { name: 'Allowed', className: 'series-ok', values: o.buckets.map((b) => b.allow) },
                    { name: 'Reviewed', className: 'series-warn', values: o.buckets.map((b) => b.review) },
                    { name: 'Blocked', className: 'series-bad', values: o.buckets.map((b) => b.block) },
                    { name: 'Errors', className: 'series-muted', values: o.buckets.map((b) => b.errors) },
                  ]}
                />
                <LineChart title="Cost (USD)" labels={labels} format={(n) => formatUsd(n)} series={[{ name: 'Cost', className: 'series-2', values: o.buckets.map((b) => b.cost_usd) }]} />
                <LineChart
                  title="Latency (ms)"
                  labels={labels}
                  format={(n) => `${Math.round(n)}`}
                  series={[
                    { name: 'p50', className: 'series-1', values: o.buckets.map((b) => b.latency_p50_ms) },
                    { name: 'p95', className: 'series-3', values: o.buckets.map((b) => b.latency_p95_ms) },
                  ]}
                />
              </div>
            </>
          );
        }}
      </Show>
    </section>
  );
}
