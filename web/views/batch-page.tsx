import type { FC } from 'hono/jsx';
import type { Batch } from '../../src/db/database.ts';
import type { Actor } from '../../src/users/user.repository.ts';
import { Layout } from './layout.tsx';
import { CountsTable } from './batch-counts.tsx';
import { CodeChart } from './code-chart.tsx';
import { ProgressBar, StatusBadge } from './batch-list.tsx';
import { RowsSection, type RowsQuery, type ShownRow } from './batch-rows.tsx';
import {
  MODE_LABELS,
  STATUS_LABELS,
  batchProgress,
  delimiterLabel,
  encodingLabel,
  formatDateLong,
  formatNumber,
  isUnfinished,
} from './format.ts';

export interface BatchView {
  batch: Batch;
  userEmail: string;
  declarantName: string;
  duplicate?: { id: number; created_at: Date };
  /** Whether this actor may apply a completed dry run (the batch's own firm). */
  canApply: boolean;
}

/** One short sentence for the live region: what a screen reader says as the batch moves on. */
export function progressSentence(b: Batch): string {
  if (isUnfinished(b)) return batchProgress(b)?.text ?? 'En attente d’un traitement';
  if (b.status === 'failed') return `Échec du lot : ${b.error_code ?? ''}`;
  return `${STATUS_LABELS[b.status] ?? b.status} : ${formatNumber(b.total)} lignes, ${formatNumber(b.rejected)} rejetées`;
}

/**
 * Everything about a batch that changes while it runs. While it is unfinished this block polls itself every
 * second (outerHTML); the answer for an ended batch carries no trigger, so the polling stops.
 */
export const BatchLive: FC<BatchView> = ({ batch: b, duplicate, canApply }) => {
  const live = isUnfinished(b);
  const attrs = live ? { 'hx-get': `/batches/${b.id}/live`, 'hx-trigger': 'every 1s', 'hx-swap': 'outerHTML' } : {};
  const ended = !live;
  return (
    <div id="batch-live" {...attrs}>
      <div class="summary">
        <p>
          <StatusBadge status={b.status} /> <span class="mode">{MODE_LABELS[b.mode] ?? b.mode}</span>
          {b.mode === 'dry_run' ? <span class="muted"> — aucun changement n’est fait au portefeuille</span> : null}
        </p>
        {b.encoding ? (
          <p>
            Lu en {encodingLabel(b.encoding)}, séparateur {delimiterLabel(b.delimiter)}.
          </p>
        ) : null}
        {duplicate ? (
          <p class="notice" role="note">
            Fichier déjà importé le {formatDateLong(duplicate.created_at)} (<a href={`/batches/${duplicate.id}`}>lot n° {duplicate.id}</a>).
          </p>
        ) : null}
        {b.source_batch_id ? (
          <p>
            Application de la simulation <a href={`/batches/${b.source_batch_id}`}>lot n° {b.source_batch_id}</a>.
          </p>
        ) : null}
        {b.warnings.length > 0 ? (
          <div class="notice" role="note">
            <p>Colonnes inconnues, ignorées :</p>
            <ul>
              {b.warnings.map((w) => (
                <li>
                  <code>{w.code}</code> « {w.column} » — {w.message}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {b.status === 'failed' ? (
          <div class="failure" role="alert">
            <p>
              <strong>Le fichier n’a pas pu être importé ; rien n’a été appliqué.</strong>
            </p>
            <p>
              <code>{b.error_code}</code> — {b.error_message}
              {b.error_line ? <> (ligne {b.error_line})</> : null}
            </p>
          </div>
        ) : null}
        {b.status === 'cancelled' ? <p class="notice">Lot annulé : ce qui avait déjà été appliqué reste appliqué et figure ci-dessous.</p> : null}
      </div>
      {live ? <ProgressBar batch={b} id="batch-progress" /> : null}
      {b.status !== 'failed' ? <CountsTable batch={b} linkable={ended} /> : null}
      <CodeChart batchId={b.id} codeCounts={b.code_counts} />
      <div class="actions">
        {ended && b.status !== 'failed' ? (
          <>
            {b.rejected > 0 ? (
              <a class="button secondary" href={`/batches/${b.id}/rejets.csv`} download>
                Télécharger les lignes rejetées (à corriger)
              </a>
            ) : null}
            <a class="button secondary" href={`/batches/${b.id}/rapport.csv`} download>
              Télécharger le rapport complet
            </a>
          </>
        ) : null}
        {live ? (
          <form method="post" action={`/batches/${b.id}/cancel`} class="inline">
            <button type="submit" id="cancel-batch" class="danger">
              Annuler le lot
            </button>
          </form>
        ) : null}
        {canApply && b.mode === 'dry_run' && b.status === 'completed' ? (
          <form method="post" action={`/batches/${b.id}/apply`} class="inline">
            <button type="submit" id="apply-batch">
              Appliquer cette simulation
            </button>
          </form>
        ) : null}
        {ended ? (
          <a class="button secondary" href="/#upload-title">
            Déposer un fichier corrigé
          </a>
        ) : null}
      </div>
    </div>
  );
};

export const BatchPage: FC<
  BatchView & { nonce: string; actor: Actor; query: RowsQuery; rows: ShownRow[]; next: number | null }
> = (props) => {
  const { batch: b, nonce, actor, userEmail, declarantName, query, rows, next } = props;
  return (
    <Layout title={`Lot n° ${b.id}`} nonce={nonce} actor={actor} section={actor.isAdmin && actor.declarantId !== b.declarant_id ? 'admin' : 'batches'}>
      <p class="crumbs">
        <a href={actor.isAdmin && actor.declarantId !== b.declarant_id ? '/admin' : '/'}>← Tous les lots</a>
      </p>
      <h1>
        Lot n° {b.id} · <span class="filename">{b.filename}</span>
      </h1>
      <p class="muted">
        Déposé le {formatDateLong(b.created_at)} par {userEmail} ({declarantName})
        {b.finished_at ? <> · terminé le {formatDateLong(b.finished_at)}</> : null}
      </p>
      <p id="progress-text" class="live-text" aria-live="polite">
        {progressSentence(b)}
      </p>
      <BatchLive {...props} />
      <RowsSection batchId={b.id} ended={!isUnfinished(b)} query={query} rows={rows} next={next} />
    </Layout>
  );
};
