/**
 * The review queue: pending items update live (SSE GET /admin/v1/reviews/events), the selected
 * item shows the request as forwarded, its risk breakdown, matched rules and tool call, and is
 * approved or rejected with a reason. Keyboard: j / k move, a approves, r rejects, ? shows help
 * (ignored while typing in a field). Written for speed: a held request is waiting on the other end.
 */
import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { admin, ApiError, formatTime, reviewView, type List, type ReviewItem } from '../api';
import { Empty, ErrorState, Loading, Notice, useAsync } from '../components/states';
import { JsonBlock, RequestView } from '../components/request-view';
import { Link, navigate, usePageTitle } from '../router';

const STATUSES = ['pending', 'approved', 'rejected', 'expired', 'abandoned', 'failed'] as const;

type Live = 'connecting' | 'live' | 'offline';

/** Live review events; the browser's EventSource reconnects by itself after a drop. */
function useReviewEvents(onItem: (item: ReviewItem, kind: 'created' | 'decided') => void): Live {
  const [live, setLive] = useState<Live>('connecting');
  const handler = useRef(onItem);
  handler.current = onItem;
  useEffect(() => {
    const source = new EventSource('/admin/v1/reviews/events');
    source.onopen = () => setLive('live');
    source.onerror = () => setLive(source.readyState === EventSource.CLOSED ? 'offline' : 'connecting');
    const on = (kind: 'created' | 'decided') => (e: MessageEvent) => {
      try {
        const data = JSON.parse(e.data as string);
        handler.current((data.item ?? data) as ReviewItem, kind);
      } catch {
        /* a malformed event is skipped; the next reload shows the truth */
      }
    };
    source.addEventListener('review.created', on('created'));
    source.addEventListener('review.decided', on('decided'));
    return () => source.close();
  }, []);
  return live;
}

export function ReviewsPage({ selected }: { selected: string | null }) {
  usePageTitle('Review queue');
  const [status, setStatus] = useState<string>('pending');
  const [items, setItems] = useState<ReviewItem[] | null>(null);
  const [listError, setListError] = useState<Error | null>(null);
  const [help, setHelp] = useState(false);
  const [notice, setNotice] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const statusId = useId();

  const load = useCallback(() => {
    setListError(null);
    admin<List<ReviewItem>>('/reviews', { query: { status, limit: 200 } }).then(
      (l) => setItems(l.data),
      (err: Error) => setListError(err),
    );
  }, [status]);
  useEffect(() => {
    setItems(null);
    load();
  }, [load]);

  const [arrivals, setArrivals] = useState('');
  const live = useReviewEvents((item, kind) => {
    if (kind === 'created' && item.status === status) {
      const v = reviewView(item);
      // Announced to screen readers; sighted reviewers see it at the top of the list.
      setArrivals(`New item waiting for review: ${v.tenant} / ${v.agent || '—'}, risk ${v.riskScore.toFixed(2)}.`);
    }
    setItems((current) => {
      if (!current) return current;
      const without = current.filter((i) => i.id !== item.id);
      const belongs = item.status === status;
      if (kind === 'created' && belongs) return [item, ...without];
      if (belongs) return current.some((i) => i.id === item.id) ? current.map((i) => (i.id === item.id ? item : i)) : [item, ...without];
      return without;
    });
  });
  // A reconnected stream may have missed events: reload the list once it is live again.
  const wasLive = useRef(false);
  useEffect(() => {
    if (live === 'live' && wasLive.current) load();
    if (live === 'live') wasLive.current = true;
  }, [live, load]);

  const views = useMemo(() => (items ?? []).map(reviewView), [items]);
  const index = selected ? views.findIndex((v) => v.id === selected) : -1;

  const move = useCallback(
    (delta: number) => {
      if (views.length === 0) return;
      const next = index === -1 ? (delta > 0 ? 0 : views.length - 1) : Math.min(views.length - 1, Math.max(0, index + delta));
      navigate(`/reviews/${encodeURIComponent(views[next]!.id)}`, { replace: true });
    },
    [views, index],
  );

  const decided = useCallback(
    (item: ReviewItem) => {
      const v = reviewView(item);
      setNotice({ kind: 'success', text: `${v.status === 'approved' ? 'Approved' : 'Rejected'} ${v.id}.` });
      if (!items) return;
      const at = items.findIndex((i) => i.id === item.id);
      const stays = item.status === status;
      const rest = stays ? items.map((i) => (i.id === item.id ? item : i)) : items.filter((i) => i.id !== item.id);
      setItems(rest);
      // Keep the reviewer moving: select the next item of the list, if any.
      if (!stays) {
        const next = rest[Math.min(Math.max(at, 0), rest.length - 1)];
        navigate(next ? `/reviews/${encodeURIComponent(next.id)}` : '/reviews', { replace: true });
      }
    },
    [items, status],
  );

  // Page-level shortcuts: j / k / ? (a and r are handled by the detail pane, which knows the reason).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
      if (e.key === 'j') {
        e.preventDefault();
        move(1);
      } else if (e.key === 'k') {
        e.preventDefault();
        move(-1);
      } else if (e.key === '?') {
        e.preventDefault();
        setHelp((h) => !h);
      } else if (e.key === 'Escape') setHelp(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [move]);

  return (
    <section aria-labelledby="page-title" className="reviews">
      <div className="page-head">
        <h1 id="page-title" tabIndex={-1}>
          Review queue
        </h1>
        <span className={`live live-${live}`} role="status">
          {live === 'live' ? 'Live' : live === 'connecting' ? 'Connecting…' : 'Offline — reload to retry'}
        </span>
        <div className="field inline">
          <label htmlFor={statusId}>Status</label>
          <select id={statusId} value={status} onChange={(e) => setStatus(e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <button type="button" className="secondary" onClick={() => setHelp((h) => !h)} aria-expanded={help} aria-controls="shortcut-help">
          Keyboard shortcuts
        </button>
      </div>
      <p className="visually-hidden" role="status" aria-live="polite">
        {arrivals}
      </p>
      {help && <ShortcutHelp onClose={() => setHelp(false)} />}
      {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}
      <div className="split">
        <div className="split-list">
          {listError ? (
            <ErrorState error={listError} retry={load} />
          ) : items === null ? (
            <Loading label="Loading the queue…" />
          ) : views.length === 0 ? (
            <Empty>{status === 'pending' ? 'Nothing waiting for review. New held requests appear here as they arrive.' : `No ${status} items.`}</Empty>
          ) : (
            <ul className="queue" aria-label={`${status} reviews`}>
              {views.map((v) => (
                <li key={v.id}>
                  <Link to={`/reviews/${encodeURIComponent(v.id)}`} className="queue-item" aria-current={v.id === selected ? 'true' : undefined} data-review-id={v.id}>
                    <span className="queue-main">
                      <span className="risk" data-level={v.riskScore >= 0.8 ? 'high' : v.riskScore >= 0.5 ? 'mid' : 'low'}>
                        risk {v.riskScore.toFixed(2)}
                      </span>{' '}
                      <strong>{v.tenant}</strong> / {v.agent || '—'} · {v.model}
                    </span>
                    <span className="queue-meta">
                      {v.mode === 'hold' ? 'held' : 'flagged'} · {formatTime(v.createdAt)}
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </div>
        <div className="split-detail">{selected ? <ReviewDetail key={selected} id={selected} onDecided={decided} onError={(text) => setNotice({ kind: 'error', text })} /> : <Empty>Select an item (or press j) to see the request and decide.</Empty>}</div>
      </div>
    </section>
  );
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
}

function ShortcutHelp({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div id="shortcut-help" className="card help" role="region" aria-label="Keyboard shortcuts" tabIndex={-1} ref={ref}>
      <h2>Keyboard shortcuts</h2>
      <dl className="shortcuts">
        <dt>
          <kbd>j</kbd>
        </dt>
        <dd>Next item</dd>
        <dt>
          <kbd>k</kbd>
        </dt>
        <dd>Previous item</dd>
        <dt>
          <kbd>a</kbd>
        </dt>
        <dd>Approve the selected item (with the reason typed, if any)</dd>
        <dt>
          <kbd>r</kbd>
        </dt>
        <dd>Reject the selected item (with the reason typed, if any)</dd>
        <dt>
          <kbd>?</kbd>
        </dt>
        <dd>Show or hide this help</dd>
      </dl>
      <button type="button" className="secondary" onClick={onClose}>
        Close
      </button>
    </div>
  );
}

function ReviewDetail({ id, onDecided, onError }: { id: string; onDecided: (item: ReviewItem) => void; onError: (text: string) => void }) {
  const state = useAsync((signal) => admin<ReviewItem>(`/reviews/${encodeURIComponent(id)}`, { signal }), [id]);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const reasonId = useId();

  const decide = useCallback(
    async (verb: 'approve' | 'reject') => {
      if (busy) return;
      setBusy(true);
      try {
        const item = await admin<ReviewItem>(`/reviews/${encodeURIComponent(id)}/${verb}`, { method: 'POST', body: reason.trim() ? { reason: reason.trim() } : {} });
        state.set(item);
        onDecided(item);
      } catch (err) {
        const e = err as ApiError;
        onError(e.status === 409 ? `This item was already decided: ${e.message}` : `Could not ${verb}: ${e.message}`);
        state.reload();
      } finally {
        setBusy(false);
      }
    },
    [busy, id, reason, state, onDecided, onError],
  );

  const pending = state.data?.status === 'pending';
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target) || !pending) return;
      if (e.key === 'a') {
        e.preventDefault();
        void decide('approve');
      } else if (e.key === 'r') {
        e.preventDefault();
        void decide('reject');
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [decide, pending]);

  if (state.error && !state.data) return <ErrorState error={state.error} retry={state.reload} />;
  if (!state.data) return <Loading label="Loading the item…" />;
  const v = reviewView(state.data);
  return (
    <article className="card review-detail" aria-labelledby="review-title">
      <h2 id="review-title">
        Review {v.id} <span className={`status status-${v.status}`}>{v.status}</span>
      </h2>
      <dl className="facts">
        <dt>Tenant / team / agent</dt>
        <dd>
          {v.tenant} / {v.team || '—'} / {v.agent || '—'}
        </dd>
        <dt>Model</dt>
        <dd>{v.model || '—'}</dd>
        <dt>Mode</dt>
        <dd>{v.mode === 'hold' ? `held (the caller waits${v.expiresAt ? ` until ${formatTime(v.expiresAt)}` : ''})` : 'flagged (already forwarded)'}</dd>
        <dt>Policy</dt>
        <dd>{v.policy ?? '—'}</dd>
        <dt>Arrived</dt>
        <dd>{formatTime(v.createdAt)}</dd>
        {v.decisionId && (
          <>
            <dt>Decision</dt>
            <dd>
              <Link to={`/audit/${encodeURIComponent(v.decisionId)}`}>{v.decisionId}</Link>
            </dd>
          </>
        )}
        {v.reviewer && (
          <>
            <dt>Decided by</dt>
            <dd>
              {v.reviewer}
              {v.reason ? ` — “${v.reason}”` : ''}
            </dd>
          </>
        )}
      </dl>
      {pending && (
        <div className="decide">
          <label htmlFor={reasonId}>Reason (optional, recorded in the audit trail)</label>
          <textarea id={reasonId} rows={2} value={reason} onChange={(e) => setReason(e.target.value)} maxLength={2000} />
          <div className="actions">
            <button type="button" className="primary" disabled={busy} onClick={() => void decide('approve')} aria-keyshortcuts="a">
              Approve <kbd aria-hidden="true">a</kbd>
            </button>
            <button type="button" className="danger" disabled={busy} onClick={() => void decide('reject')} aria-keyshortcuts="r">
              Reject <kbd aria-hidden="true">r</kbd>
            </button>
          </div>
        </div>
      )}
      <h3>Risk breakdown</h3>
      <RiskBreakdown score={v.riskScore} factors={v.riskFactors} />
      <h3>Matched rules</h3>
      {v.matchedRules.length === 0 ? (
        <p className="muted">No rule matched.</p>
      ) : (
        <ul className="chips">
          {v.matchedRules.map((r, i) => {
            const rule = r as { id?: string; action?: string; shadow?: boolean };
            return (
              <li key={i} className="chip">
                {rule.id ?? JSON.stringify(r)}
                {rule.action ? ` → ${rule.action}` : ''}
                {rule.shadow ? ' (shadow)' : ''}
              </li>
            );
          })}
        </ul>
      )}
      {v.toolCall ? (
        <>
          <h3>Tool call</h3>
          <JsonBlock value={v.toolCall} label="Tool call" />
        </>
      ) : null}
      <h3>Request as forwarded</h3>
      <RequestView request={v.request} />
    </article>
  );
}

function RiskBreakdown({ score, factors }: { score: number; factors: unknown[] }) {
  return (
    <>
      <p>
        Combined risk <strong>{score.toFixed(2)}</strong>
      </p>
      {factors.length === 0 ? (
        <p className="muted">No risk factors.</p>
      ) : (
        <div className="table-wrap">
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">Factor</th>
              <th scope="col">Signal</th>
              <th scope="col">Weight</th>
              <th scope="col">Contribution</th>
            </tr>
          </thead>
          <tbody>
            {factors.map((f, i) => {
              const r = f as { factor?: string; signal?: number; weight?: number; contribution?: number };
              return (
                <tr key={i}>
                  <th scope="row">{r.factor ?? JSON.stringify(f)}</th>
                  <td>{r.signal?.toFixed(2) ?? '—'}</td>
                  <td>{r.weight?.toFixed(2) ?? '—'}</td>
                  <td>{r.contribution?.toFixed(2) ?? '—'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        </div>
      )}
    </>
  );
}
