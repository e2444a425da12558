import type { FC } from 'hono/jsx';
import { REJECTION_CODES, type RejectionCode } from '../../src/domain/types.ts';
import { messageFor } from '../../src/domain/messages.ts';
import { formatNumber } from './format.ts';

const REJECTION = new Set<string>(REJECTION_CODES);

/** Rejection codes of a batch, most frequent first, from its code_counts (kept up to date while it applies). */
export function rejectionCounts(codeCounts: Record<string, number> | null | undefined): [RejectionCode, number][] {
  return Object.entries(codeCounts ?? {})
    .filter(([code, n]) => REJECTION.has(code) && n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])) as [RejectionCode, number][];
}

const ROW_H = 24;
const LABEL_W = 230;
const BAR_W = 420;

/**
 * Rejections by code: a small inline SVG bar chart (drawn, not scripted; CSP-safe) beside a table that says the
 * same for screen readers and gives each code its French message and a filter link.
 */
export const CodeChart: FC<{ batchId: number; codeCounts: Record<string, number> }> = ({ batchId, codeCounts }) => {
  const counts = rejectionCounts(codeCounts);
  if (counts.length === 0) return null;
  const max = counts[0][1];
  const height = counts.length * ROW_H + 4;
  return (
    <section class="chart" aria-labelledby="chart-title">
      <h2 id="chart-title">Rejets par code</h2>
      <svg class="bars" viewBox={`0 0 ${LABEL_W + BAR_W + 90} ${height}`} width="100%" height={height} aria-hidden="true" focusable="false">
        {counts.map(([code, n], i) => {
          const w = Math.max(2, Math.round((n / max) * BAR_W));
          const y = i * ROW_H + 2;
          return (
            <g>
              <text x={LABEL_W - 8} y={y + 15} text-anchor="end" class="bar-label">
                {code}
              </text>
              <rect x={LABEL_W} y={y + 3} width={w} height={ROW_H - 8} rx="2" class="bar" />
              <text x={LABEL_W + w + 6} y={y + 15} class="bar-value">
                {formatNumber(n)}
              </text>
            </g>
          );
        })}
      </svg>
      <table class="codes">
        <caption class="sr-only">Nombre de lignes rejetées par code</caption>
        <thead>
          <tr>
            <th scope="col">Code</th>
            <th scope="col">Motif</th>
            <th scope="col" class="num">Lignes</th>
          </tr>
        </thead>
        <tbody>
          {counts.map(([code, n]) => (
            <tr>
              <th scope="row">
                <a href={`/batches/${batchId}?code=${code}#rows-section`}>
                  <code>{code}</code>
                </a>
              </th>
              <td>{messageFor(code)}</td>
              <td class="num">{formatNumber(n)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
};
