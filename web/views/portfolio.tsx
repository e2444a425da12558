import type { FC } from 'hono/jsx';
import type { Actor } from '../../src/users/user.repository.ts';
import { CLIENT_CASES } from '../../src/domain/types.ts';
import { Layout } from './layout.tsx';
import { FilterSelect } from './filter-select.tsx';
import { Pager } from './pager.tsx';
import { CASE_LABELS, EVENT_LABELS, formatDateTime } from './format.ts';

export interface PortfolioQuery {
  q?: string;
  clientCase?: string;
  struckOffOnly: boolean;
  after?: string;
}

export interface PortfolioClientView {
  account_number: string;
  siren: string | null;
  case: string;
  name: string;
  online_services: string[];
  email_services: string[];
  struck_off: boolean;
  added_at: Date;
  added_by_batch: number | null;
}

export function portfolioUrl(q: PortfolioQuery, after?: string): string {
  const p = new URLSearchParams();
  if (q.q) p.set('q', q.q);
  if (q.clientCase) p.set('cas', q.clientCase);
  if (q.struckOffOnly) p.set('radies', '1');
  if (after) p.set('after', after);
  const s = p.toString();
  return `/portefeuille${s ? `?${s}` : ''}`;
}

export const PortfolioPage: FC<{ nonce: string; actor: Actor; query: PortfolioQuery; clients: PortfolioClientView[]; next: string | null }> = ({
  nonce,
  actor,
  query,
  clients,
  next,
}) => (
  <Layout title="Portefeuille" nonce={nonce} actor={actor} section="portfolio">
    <h1>Portefeuille de {actor.declarantName}</h1>
    <section class="card" aria-labelledby="cleanup-title">
      <h2 id="cleanup-title">Préparer le nettoyage</h2>
      <p>
        Un fichier prêt à déposer qui supprime du portefeuille tous les clients dont le compte est radié. Relisez-le,
        puis déposez-le (en simulation d’abord si vous le souhaitez).
      </p>
      <p>
        <a class="button secondary" href="/portefeuille/nettoyage.csv" download>
          Télécharger le fichier de nettoyage
        </a>
      </p>
    </section>
    <div id="portfolio-results" hx-boost="true" hx-target="#portfolio-results" hx-select="#portfolio-results" hx-swap="outerHTML" hx-push-url="true">
      <form method="get" action="/portefeuille" class="filters" role="search" aria-label="Rechercher un client">
        <div>
          <label for="p-q">SIREN, n° de compte ou nom</label>
          <input id="p-q" name="q" type="search" value={query.q ?? ''} autocomplete="off" />
        </div>
        <FilterSelect id="p-case" name="cas" label="Cas" selected={query.clientCase}
          options={CLIENT_CASES.map((k) => [k, CASE_LABELS[k]] as const)} />
        <div class="choice">
          <input id="p-struck" name="radies" type="checkbox" value="1" checked={query.struckOffOnly} />
          <label for="p-struck">Comptes radiés seulement</label>
        </div>
        <div class="filter-actions">
          <button type="submit">Rechercher</button>
          {query.q || query.clientCase || query.struckOffOnly ? <a href="/portefeuille">Effacer</a> : null}
        </div>
      </form>
      {clients.length === 0 ? (
        <p class="empty">Aucun client ne correspond.</p>
      ) : (
        <div class="table-wrap">
          <table class="clients">
            <caption class="sr-only">Clients du portefeuille, par numéro de compte</caption>
            <thead>
              <tr>
                <th scope="col">N° de compte</th>
                <th scope="col">SIREN</th>
                <th scope="col">Nom</th>
                <th scope="col">Cas</th>
                <th scope="col">Services</th>
                <th scope="col">Compte</th>
                <th scope="col">Ajouté le</th>
              </tr>
            </thead>
            <tbody>
              {clients.map((cl) => (
                <tr>
                  <th scope="row" class="mono">
                    <a href={`/portefeuille/${cl.account_number}`}>{cl.account_number}</a>
                  </th>
                  <td class="mono">{cl.siren ?? '—'}</td>
                  <td>{cl.name}</td>
                  <td>{CASE_LABELS[cl.case] ?? cl.case}</td>
                  <td class="small">
                    {[...cl.online_services, ...cl.email_services].map((s) => (
                      <code class="code">{s}</code>
                    ))}
                  </td>
                  <td>{cl.struck_off ? <span class="status status-failed">Radié</span> : 'Actif'}</td>
                  <td>
                    {formatDateTime(cl.added_at)}
                    {cl.added_by_batch ? (
                      <div class="small">
                        <a href={`/batches/${cl.added_by_batch}`}>lot n° {cl.added_by_batch}</a>
                      </div>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager
        first={query.after ? portfolioUrl(query) : undefined}
        next={next ? portfolioUrl(query, next) : undefined}
        firstLabel="Premiers clients"
        nextLabel="Clients suivants"
      />
    </div>
  </Layout>
);

export interface HistoryEvent {
  kind: string;
  at: Date;
  batch_id: number;
  line: number;
  user_email: string | null;
}

export const ClientHistoryPage: FC<{ nonce: string; actor: Actor; account: string; current?: PortfolioClientView; events: HistoryEvent[] }> = ({
  nonce,
  actor,
  account,
  current,
  events,
}) => (
  <Layout title={`Client ${account}`} nonce={nonce} actor={actor} section="portfolio">
    <p class="crumbs">
      <a href="/portefeuille">← Portefeuille</a>
    </p>
    <h1>
      Compte <span class="mono">{account}</span>
    </h1>
    {current ? (
      <p>
        Dans le portefeuille : {current.name || 'sans nom'}, {CASE_LABELS[current.case] ?? current.case}
        {current.siren ? <>, SIREN <span class="mono">{current.siren}</span></> : null}
        {current.struck_off ? <> — <span class="status status-failed">compte radié</span></> : null}.
      </p>
    ) : (
      <p class="notice">Ce client n’est plus dans le portefeuille.</p>
    )}
    <h2>Historique</h2>
    <table class="history">
      <caption class="sr-only">Historique du client, du plus ancien au plus récent</caption>
      <thead>
        <tr>
          <th scope="col">Quand</th>
          <th scope="col">Quoi</th>
          <th scope="col">Par</th>
          <th scope="col">Lot</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr>
            <th scope="row">{formatDateTime(e.at)}</th>
            <td>
              <span class={`outcome outcome-${e.kind}`}>{EVENT_LABELS[e.kind] ?? e.kind}</span>
            </td>
            <td>{e.user_email ?? '—'}</td>
            <td>
              <a href={`/batches/${e.batch_id}?after=${Math.max(0, e.line - 1)}#rows-section`}>lot n° {e.batch_id}</a>, ligne {e.line}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </Layout>
);
