import type { FC } from 'hono/jsx';
import type { Batch } from '../../src/db/database.ts';
import { MODE_LABELS, STATUS_LABELS, batchProgress, formatDateTime, formatNumber, isUnfinished } from './format.ts';

export type ListedBatch = Batch & { declarant_name: string; user_email: string };

export const StatusBadge: FC<{ status: string }> = ({ status }) => (
  <span class={`status status-${status}`}>{STATUS_LABELS[status] ?? status}</span>
);

export const ProgressBar: FC<{ batch: Batch; id?: string }> = ({ batch, id }) => {
  const p = batchProgress(batch);
  const label = p?.text ?? 'En attente d’un traitement';
  return (
    <div class="progress">
      {p ? (
        <progress id={id} value={p.value} max={p.max} aria-label={label}></progress>
      ) : (
        <progress id={id} aria-label={label}></progress>
      )}
      <span class="progress-text">{label}</span>
    </div>
  );
};

export const CountsLine: FC<{ batch: Batch }> = ({ batch: b }) => (
  <span class="counts-line">
    {formatNumber(b.total)} lignes · {formatNumber(b.added)} ajoutées · {formatNumber(b.removed)} supprimées ·{' '}
    {formatNumber(b.updated)} mises à jour · {formatNumber(b.unchanged)} inchangées ·{' '}
    <span class={b.rejected > 0 ? 'rejected' : undefined}>{formatNumber(b.rejected)} rejetées</span>
  </span>
);

/**
 * The batches table, live: while any batch is unfinished the fragment polls itself every second and replaces
 * itself; once all have ended the server answers it without the trigger, so the polling stops.
 */
export const BatchList: FC<{ batches: ListedBatch[]; next: number | null; pollUrl: string; pageUrl: (after: number) => string; showFirm?: boolean }> = ({
  batches,
  next,
  pollUrl,
  pageUrl,
  showFirm,
}) => {
  const live = batches.some(isUnfinished);
  const attrs = live ? { 'hx-get': pollUrl, 'hx-trigger': 'every 1s', 'hx-swap': 'outerHTML' } : {};
  return (
    <div id="batch-list" {...attrs}>
      {batches.length === 0 ? (
        <p class="empty">Aucun lot pour l’instant.</p>
      ) : (
        <table class="batches">
          <caption class="sr-only">Lots, du plus récent au plus ancien</caption>
          <thead>
            <tr>
              <th scope="col">Lot</th>
              {showFirm ? <th scope="col">Cabinet</th> : null}
              <th scope="col">Fichier</th>
              <th scope="col">Type</th>
              <th scope="col">Déposé le</th>
              <th scope="col">Statut</th>
              <th scope="col">Avancement et résultats</th>
            </tr>
          </thead>
          <tbody>
            {batches.map((b) => (
              <tr id={`batch-${b.id}`}>
                <th scope="row">
                  <a href={`/batches/${b.id}`}>n° {b.id}</a>
                </th>
                {showFirm ? <td>{b.declarant_name}</td> : null}
                <td class="filename">
                  <a href={`/batches/${b.id}`}>{b.filename}</a>
                  <div class="muted small">{b.user_email}</div>
                </td>
                <td>{MODE_LABELS[b.mode] ?? b.mode}</td>
                <td>{formatDateTime(b.created_at)}</td>
                <td>
                  <StatusBadge status={b.status} />
                  {b.error_code ? <div class="small"><code>{b.error_code}</code></div> : null}
                </td>
                <td>
                  {isUnfinished(b) ? <ProgressBar batch={b} /> : null}
                  <CountsLine batch={b} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next !== null ? (
        <p>
          <a href={pageUrl(next)}>Lots plus anciens</a>
        </p>
      ) : null}
    </div>
  );
};
