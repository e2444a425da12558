import type { FC } from 'hono/jsx';
import type { Actor } from '../../src/users/user.repository.ts';
import { Layout } from './layout.tsx';
import { BatchList, type ListedBatch } from './batch-list.tsx';
import { formatNumber } from './format.ts';

export interface QueueHealth {
  counts?: { waiting: number; active: number; delayed: number; failed: number };
  workers?: number;
}

/** The admin batch list's query string: its search and its page. */
export function adminQuery(q: string | undefined, after?: number): string {
  const p = new URLSearchParams();
  if (q) p.set('q', q);
  if (after) p.set('after', String(after));
  const s = p.toString();
  return s ? `?${s}` : '';
}

const QUEUE_LABELS = { waiting: 'En attente', active: 'En cours', delayed: 'Différés', failed: 'En échec' } as const;

export const AdminPage: FC<{ nonce: string; actor: Actor; q?: string; batches: ListedBatch[]; next: number | null; health: QueueHealth }> = ({
  nonce,
  actor,
  q,
  batches,
  next,
  health,
}) => {
  const qs = (after?: number) => adminQuery(q, after);
  return (
    <Layout title="Administration" nonce={nonce} actor={actor} section="admin">
      <h1>Administration</h1>
      <section class="card" aria-labelledby="queue-title">
        <h2 id="queue-title">File de traitement</h2>
        {health.counts ? (
          <dl class="health">
            {(Object.keys(QUEUE_LABELS) as (keyof typeof QUEUE_LABELS)[]).map((k) => (
              <div class={k === 'failed' && health.counts![k] > 0 ? 'bad' : undefined}>
                <dt>{QUEUE_LABELS[k]}</dt>
                <dd>{formatNumber(health.counts![k])}</dd>
              </div>
            ))}
            <div class={health.workers === 0 ? 'bad' : undefined}>
              <dt>Workers actifs</dt>
              <dd>{health.workers === undefined ? '?' : formatNumber(health.workers)}</dd>
            </div>
          </dl>
        ) : (
          <p class="error" role="alert">
            Redis ne répond pas : l’état de la file est inconnu. Les lots déposés restent en attente dans la base.
          </p>
        )}
        {health.workers === 0 ? <p class="error">Aucun worker ne traite la file : les lots restent en attente.</p> : null}
        <p>
          <a href="/admin/queues">Ouvrir le tableau de bord de la file (bull-board)</a>
        </p>
      </section>
      <section aria-labelledby="all-batches-title">
        <h2 id="all-batches-title">Lots de tous les cabinets</h2>
        <form method="get" action="/admin" class="filters" role="search" aria-label="Rechercher un lot">
          <div>
            <label for="a-q">Cabinet, nom de fichier, SIREN ou n° de compte</label>
            <input id="a-q" name="q" type="search" value={q ?? ''} autocomplete="off" />
          </div>
          <div class="filter-actions">
            <button type="submit">Rechercher</button>
            {q ? <a href="/admin">Effacer</a> : null}
          </div>
        </form>
        <BatchList batches={batches} next={next} showFirm pollUrl={`/admin/batches${qs()}`} pageUrl={(n) => `/admin${qs(n)}`} />
      </section>
    </Layout>
  );
};
