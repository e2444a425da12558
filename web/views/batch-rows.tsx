import type { FC } from 'hono/jsx';
import { OUTCOMES, REJECTION_CODES, INFO_CODES } from '../../src/domain/types.ts';
import { FilterSelect } from './filter-select.tsx';
import { Pager } from './pager.tsx';
import { ACTION_LABELS, CASE_LABELS, OUTCOME_LABELS } from './format.ts';

export interface RowsQuery {
  outcome?: string;
  code?: string;
  q?: string;
  after?: number;
}

export interface ShownRow {
  line: number;
  action: string | null;
  client_case: string | null;
  account_number: string | null;
  siren: string | null;
  siret: string | null;
  name: string | null;
  outcome: string | null;
  codes: string[];
  message: string;
}

export function rowsUrl(batchId: number, q: RowsQuery, after?: number): string {
  const params = new URLSearchParams();
  if (q.outcome) params.set('outcome', q.outcome);
  if (q.code) params.set('code', q.code);
  if (q.q) params.set('q', q.q);
  if (after !== undefined) params.set('after', String(after));
  const s = params.toString();
  return `/batches/${batchId}${s ? `?${s}` : ''}`;
}

const ALL_CODES = [...REJECTION_CODES, ...INFO_CODES];

/**
 * The rows of a batch, a page at a time in line order (keyset: `after` is the last line shown), filtered by
 * outcome, code or a SIREN / account number. The form and the "next" link are plain GETs of the batch page;
 * htmx boosts them and swaps this section alone.
 */
export const RowsSection: FC<{
  batchId: number;
  ended: boolean;
  query: RowsQuery;
  rows: ShownRow[];
  next: number | null;
  oob?: boolean;
}> = ({ batchId, ended, query, rows, next, oob }) => (
  <section
    id="rows-section"
    aria-labelledby="rows-title"
    hx-boost="true"
    hx-target="#rows-section"
    hx-select="#rows-section"
    hx-swap="outerHTML"
    hx-push-url="true"
    hx-swap-oob={oob ? 'true' : undefined}
  >
    <h2 id="rows-title">Lignes du fichier</h2>
    {!ended ? (
      <p class="muted">Les lignes et leurs résultats s’afficheront ici à la fin du traitement.</p>
    ) : (
      <>
        <form method="get" action={`/batches/${batchId}`} class="filters" role="search" aria-label="Filtrer les lignes">
          <FilterSelect id="f-outcome" name="outcome" label="Résultat" selected={query.outcome}
            options={OUTCOMES.map((o) => [o, OUTCOME_LABELS[o]] as const)} />
          <FilterSelect id="f-code" name="code" label="Code" selected={query.code}
            options={ALL_CODES.map((code) => [code, code] as const)} />
          <div>
            <label for="f-q">SIREN, SIRET ou n° de compte</label>
            <input id="f-q" name="q" type="search" inputmode="numeric" value={query.q ?? ''} autocomplete="off" />
          </div>
          <div class="filter-actions">
            <button type="submit">Filtrer</button>
            {query.outcome || query.code || query.q ? <a href={`/batches/${batchId}#rows-section`}>Effacer les filtres</a> : null}
          </div>
        </form>
        {rows.length === 0 ? (
          <p class="empty">Aucune ligne ne correspond{query.after ? ' après cette page' : ''}.</p>
        ) : (
          <div class="table-wrap">
            <table class="rows">
              <caption class="sr-only">Lignes du fichier et leur résultat</caption>
              <thead>
                <tr>
                  <th scope="col" class="num">Ligne</th>
                  <th scope="col">Action</th>
                  <th scope="col">Cas</th>
                  <th scope="col">SIREN / SIRET</th>
                  <th scope="col">N° de compte</th>
                  <th scope="col">Nom</th>
                  <th scope="col">Résultat</th>
                  <th scope="col">Codes et motif</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr>
                    <th scope="row" class="num">
                      {r.line}
                    </th>
                    <td>{r.action ? ACTION_LABELS[r.action] ?? r.action : '—'}</td>
                    <td>{r.client_case ? CASE_LABELS[r.client_case] ?? r.client_case : '—'}</td>
                    <td class="mono">{r.siret ?? r.siren ?? ''}</td>
                    <td class="mono">{r.account_number ?? ''}</td>
                    <td>{r.name ?? ''}</td>
                    <td>
                      <span class={`outcome outcome-${r.outcome ?? 'none'}`}>{r.outcome ? OUTCOME_LABELS[r.outcome] ?? r.outcome : 'Non traitée'}</span>
                    </td>
                    <td>
                      {r.codes.map((c) => (
                        <code class="code">{c}</code>
                      ))}
                      {r.message ? <div class="small">{r.message}</div> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager
          first={query.after !== undefined ? `${rowsUrl(batchId, query)}#rows-section` : undefined}
          next={next !== null ? `${rowsUrl(batchId, query, next)}#rows-section` : undefined}
          firstLabel="Premières lignes"
          nextLabel="Lignes suivantes"
        />
      </>
    )}
  </section>
);
