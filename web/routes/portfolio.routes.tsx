import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../context.ts';
import { clientHistory, listPortfolioClients } from '../../src/portfolio/portfolio.repository.ts';
import { csvLine } from '../../src/batches/export.ts';
import { CLIENT_CASES } from '../../src/domain/types.ts';
import { ClientHistoryPage, PortfolioPage, type PortfolioQuery } from '../views/portfolio.tsx';
import { notFoundPage } from './batches.routes.tsx';

const CLIENTS_PER_PAGE = 50;
const CLEANUP_HEADER = ['action', 'numero de compte', 'siren', 'nom'];

export function portfolioRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get('/portefeuille', async (c) => {
    const actor = c.get('actor');
    const cas = c.req.query('cas');
    const after = c.req.query('after');
    const query: PortfolioQuery = {
      q: c.req.query('q')?.trim().slice(0, 100) || undefined,
      clientCase: cas && (CLIENT_CASES as readonly string[]).includes(cas) ? cas : undefined,
      struckOffOnly: c.req.query('radies') === '1',
      after: after && /^\d{1,18}$/.test(after) ? after : undefined,
    };
    const page = await listPortfolioClients(deps.db, actor.declarantId, { ...query, limit: CLIENTS_PER_PAGE });
    c.header('Vary', 'HX-Request');
    return c.html(<PortfolioPage nonce={c.get('nonce')} actor={actor} query={query} clients={page.clients} next={page.next} />);
  });

  /**
   * "Préparer le nettoyage": one removal row per struck-off client, ready to upload (UTF-8 BOM, `;`, CRLF). Cells
   * go through csvLine, hence formulaSafe: a client's name is the registry's, never trusted by a spreadsheet.
   */
  app.get('/portefeuille/nettoyage.csv', async (c) => {
    const declarantId = c.get('actor').declarantId;
    let out = '\uFEFF' + csvLine(CLEANUP_HEADER, ';', '\r\n');
    let after: string | undefined;
    for (;;) {
      const page = await listPortfolioClients(deps.db, declarantId, { struckOffOnly: true, after, limit: 1000 });
      for (const cl of page.clients) out += csvLine(['suppression', cl.account_number, cl.siren ?? '', cl.name], ';', '\r\n');
      if (!page.next) break;
      after = page.next;
    }
    c.header('Content-Type', 'text/csv; charset=utf-8');
    c.header('Content-Disposition', 'attachment; filename="nettoyage-portefeuille.csv"');
    c.header('Cache-Control', 'no-store');
    return c.body(out);
  });

  app.get('/portefeuille/:account', async (c) => {
    const actor = c.get('actor');
    const account = c.req.param('account');
    if (!/^\d{18}$/.test(account)) return notFoundPage(c);
    const [events, current] = await Promise.all([
      clientHistory(deps.db, actor.declarantId, account),
      listPortfolioClients(deps.db, actor.declarantId, { q: account, limit: 5 }),
    ]);
    if (events.length === 0) return notFoundPage(c);
    return c.html(
      <ClientHistoryPage
        nonce={c.get('nonce')}
        actor={actor}
        account={account}
        current={current.clients.find((cl) => cl.account_number === account)}
        events={events}
      />,
    );
  });

  return app;
}
