/**
 * Small SVG charts: a line chart over time with one or more series, and a horizontal bar.
 * The SVG is decorative for screen readers (aria-hidden); the same numbers are in a
 * visually hidden table beside it, so nothing is only visible as a picture.
 */
export interface Series {
  name: string;
  /** A CSS class setting the stroke colour (see styles.css, .series-*). */
  className: string;
  values: (number | null)[];
}

const W = 560;
const H = 180;
const PAD = { left: 48, right: 12, top: 12, bottom: 26 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

export function LineChart({ title, labels, series, format = (n) => String(n) }: { title: string; labels: string[]; series: Series[]; format?: (n: number) => string }) {
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null))));
  const n = labels.length;
  const x = (i: number) => PAD.left + (n <= 1 ? 0 : (i * (W - PAD.left - PAD.right)) / (n - 1));
  const y = (v: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / max);
  const ticks = [0, max / 2, max];
  const labelEvery = Math.max(1, Math.ceil(n / 6));
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <ul className="legend" aria-hidden="true">
        {series.map((s) => (
          <li key={s.name}>
            <span className={`swatch ${s.className}`} />
            {s.name}
          </li>
        ))}
      </ul>
      <svg viewBox={`0 0 ${W} ${H}`} aria-hidden="true" focusable="false">
        {ticks.map((t) => (
          <g key={t}>
            <line className="grid" x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
            <text className="axis" x={PAD.left - 6} y={y(t) + 4} textAnchor="end">
              {format(t)}
            </text>
          </g>
        ))}
        {labels.map((l, i) =>
          i % labelEvery === 0 ? (
            <text key={i} className="axis" x={x(i)} y={H - 8} textAnchor="middle">
              {l}
            </text>
          ) : null,
        )}
        {series.map((s) => {
          const points = s.values.map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`));
          // Gaps (no data in a bucket) split the line instead of drawing it through zero.
          const runs: string[][] = [[]];
          for (const p of points) {
            if (p === null) runs.push([]);
            else runs.at(-1)!.push(p);
          }
          return runs
            .filter((r) => r.length > 0)
            .map((r, i) => (r.length === 1 ? <circle key={`${s.name}${i}`} className={`line ${s.className}`} cx={r[0]!.split(',')[0]} cy={r[0]!.split(',')[1]} r={2.5} /> : <polyline key={`${s.name}${i}`} className={`line ${s.className}`} points={r.join(' ')} />));
        })}
      </svg>
      {/* A table cannot be shrunk below its content: the wrapper hides it. */}
      <div className="visually-hidden">
      <table>
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            {series.map((s) => (
              <th key={s.name} scope="col">
                {s.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {labels.map((l, i) => (
            <tr key={i}>
              <th scope="row">{l}</th>
              {series.map((s) => (
                <td key={s.name}>{s.values[i] === null ? '—' : format(s.values[i]!)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </figure>
  );
}

/** A budget bar: spent (solid) and reserved (hatched) against the limit, with text. */
export function BudgetBar({ label, spent, reserved = 0, limit, format }: { label: string; spent: number; reserved?: number; limit: number | null; format: (n: number) => string }) {
  const pct = limit ? Math.min(100, (spent / limit) * 100) : 0;
  const resPct = limit ? Math.min(100 - pct, (reserved / limit) * 100) : 0;
  const level = pct >= 100 ? 'over' : pct >= 80 ? 'warn' : 'ok';
  const text = limit ? `${format(spent)} of ${format(limit)} (${Math.round((spent / limit) * 100)} %)${reserved ? `, ${format(reserved)} reserved` : ''}` : `${format(spent)}, no limit`;
  return (
    <div className="budget">
      <div className="budget-label">
        <span>{label}</span>
        <span>{text}</span>
      </div>
      <div className="bar" role="meter" aria-label={`${label} budget used`} aria-valuemin={0} aria-valuemax={limit ?? 0} aria-valuenow={spent} aria-valuetext={text}>
        <div className={`bar-fill bar-${level}`} ref={(el) => el?.style.setProperty('width', `${pct}%`)} />
        <div className="bar-reserved" ref={(el) => el?.style.setProperty('width', `${resPct}%`)} />
      </div>
    </div>
  );
}
