import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { submitDepsOf, type AppDeps, type AppEnv } from '../context.ts';
import type { Actor } from '../../src/users/user.repository.ts';
import type { Batch } from '../../src/db/database.ts';
import { ADMIN_SCOPE, declarantScope, findBatch, listBatches, listBatchRows, requestCancel, type Scope } from '../../src/batches/batch.repository.ts';
import { applyDryRun, storeBatchUpload, submitBatch, discardBatchUpload } from '../../src/batches/submit-batch.ts';
import { rejectionsCsv, reportCsv } from '../../src/batches/export.ts';
import { UploadPurgedError, UploadTooLargeError } from '../../src/batches/upload.repository.ts';
import { OUTCOMES, REJECTION_CODES, INFO_CODES } from '../../src/domain/types.ts';
import { parseUpload } from '../multipart.ts';
import { parseId } from '../format.ts';
import { csvDownload, primed } from './api.routes.ts';
import { MessagePage } from '../views/layout.tsx';
import { HomePage } from '../views/home.tsx';
import { BatchList } from '../views/batch-list.tsx';
import { BatchLive, BatchPage, progressSentence, type BatchView } from '../views/batch-page.tsx';
import { RowsSection, type RowsQuery } from '../views/batch-rows.tsx';
import { isUnfinished } from '../views/format.ts';
import { TEMPLATE_CSV } from '../views/template-csv.ts';

const KNOWN_CODES = new Set<string>([...REJECTION_CODES, ...INFO_CODES]);
const BATCHES_PER_PAGE = 20;
const ROWS_PER_PAGE = 100;

/** A firm sees its own batches; an admin sees every firm's. */
export const scopeOf = (actor: Actor): Scope => (actor.isAdmin ? ADMIN_SCOPE : declarantScope(actor.declarantId));

/** A French page for a status a person can meet (the app's onError answers plain text). */
export function messagePage(c: Context<AppEnv>, status: 404 | 409 | 410 | 413 | 400, title: string, message: string) {
  return c.html(<MessagePage title={title} message={message} nonce={c.get('nonce')} actor={c.get('actor')} />, status);
}

export const notFoundPage = (c: Context<AppEnv>) =>
  messagePage(c, 404, 'Page introuvable', 'Ce lot ou cette page n’existe pas, ou n’est pas accessible avec votre compte.');

/** Query parameters of the rows table; anything unknown is ignored rather than refused (people edit URLs). */
export function rowsQuery(c: Context): RowsQuery {
  const outcome = c.req.query('outcome');
  const code = c.req.query('code');
  const q = c.req.query('q')?.trim().slice(0, 40);
  const after = parseId(c.req.query('after'));
  return {
    outcome: outcome && (OUTCOMES as readonly string[]).includes(outcome) ? outcome : undefined,
    code: code && KNOWN_CODES.has(code) ? code : undefined,
    q: q || undefined,
    after,
  };
}

export function batchRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const submitDeps = submitDepsOf(deps);
  const maxMb = Math.floor(deps.config.uploadMaxBytes / (1024 * 1024));

  const loadBatch = async (c: Context<AppEnv>): Promise<Batch | undefined> => {
    const id = parseId(c.req.param('id'));
    return id === undefined ? undefined : findBatch(deps.db, scopeOf(c.get('actor')), id);
  };

  const batchView = async (actor: Actor, batch: Batch): Promise<BatchView> => {
    const [who, firm, duplicate] = await Promise.all([
      deps.db.selectFrom('app_user').select('email').where('id', '=', batch.user_id).executeTakeFirst(),
      deps.db.selectFrom('declarant').select('name').where('id', '=', batch.declarant_id).executeTakeFirst(),
      batch.duplicate_of ? findBatch(deps.db, declarantScope(batch.declarant_id), batch.duplicate_of) : undefined,
    ]);
    return {
      batch,
      userEmail: who?.email ?? '',
      declarantName: firm?.name ?? '',
      duplicate: duplicate ? { id: duplicate.id, created_at: duplicate.created_at } : undefined,
      canApply: batch.declarant_id === actor.declarantId,
    };
  };

  const homeList = async (actor: Actor, after: number | undefined) =>
    listBatches(deps.db, declarantScope(actor.declarantId), { after, limit: BATCHES_PER_PAGE });

  const home = async (c: Context<AppEnv>, status: 200 | 400 | 413, error?: string) => {
    const actor = c.get('actor');
    const after = parseId(c.req.query('after'));
    const { batches, next } = await homeList(actor, after);
    return c.html(
      <HomePage nonce={c.get('nonce')} actor={actor} batches={batches} next={next} after={after} error={error} maxMb={maxMb} />,
      status,
    );
  };

  app.get('/', (c) => home(c, 200));

  /** The batches table alone, polled by the home page while a batch runs. */
  app.get('/batches/list', async (c) => {
    const after = parseId(c.req.query('after'));
    const { batches, next } = await homeList(c.get('actor'), after);
    return c.html(
      <BatchList batches={batches} next={next} pollUrl={`/batches/list${after ? `?after=${after}` : ''}`} pageUrl={(n) => `/?after=${n}`} />,
    );
  });

  app.get('/modele.csv', (c) => {
    c.header('Content-Type', 'text/csv; charset=utf-8');
    c.header('Content-Disposition', 'attachment; filename="modele-import-portefeuille.csv"');
    return c.body(TEMPLATE_CSV);
  });

  app.post('/batches', async (c) => {
    const actor = c.get('actor');
    let upload;
    try {
      upload = await parseUpload(c.req.raw, deps.config.uploadMaxBytes, (body, filename) => storeBatchUpload(submitDeps, actor, filename, body), (stored) => discardBatchUpload(submitDeps, stored));
    } catch (err) {
      if (err instanceof UploadTooLargeError || (err instanceof HTTPException && err.status === 413)) {
        return home(c, 413, `Fichier trop volumineux : ${maxMb} Mo au plus. Découpez-le en plusieurs fichiers.`);
      }
      if (err instanceof HTTPException && err.status === 400) return home(c, 400, 'Aucun fichier reçu : choisissez un fichier CSV.');
      throw err;
    }
    const mode = upload.fields.mode === 'dry_run' ? 'dry_run' : 'apply';
    const batch = await submitBatch(submitDeps, { actor, filename: upload.file.filename, mode, stored: upload.file.result });
    return c.redirect(`/batches/${batch.id}`, 303);
  });

  app.get('/batches/:id', async (c) => {
    const batch = await loadBatch(c);
    if (!batch) return notFoundPage(c);
    const query = rowsQuery(c);
    const ended = !isUnfinished(batch);
    const page = ended ? await listBatchRows(deps.db, batch.id, { ...query, limit: ROWS_PER_PAGE }) : { rows: [], next: null };
    c.header('Vary', 'HX-Request, HX-Target');
    // A boosted filter form or "next" link swaps the rows section alone: no need to render the rest.
    if (c.req.header('hx-request') && c.req.header('hx-target') === 'rows-section' && !c.req.header('hx-history-restore-request')) {
      return c.html(<RowsSection batchId={batch.id} ended={ended} query={query} rows={page.rows} next={page.next} />);
    }
    const view = await batchView(c.get('actor'), batch);
    return c.html(<BatchPage {...view} nonce={c.get('nonce')} actor={c.get('actor')} query={query} rows={page.rows} next={page.next} />);
  });

  /** The live block of a batch page, polled every second while the batch runs. */
  app.get('/batches/:id/live', async (c) => {
    const batch = await loadBatch(c);
    if (!batch) return notFoundPage(c);
    const view = await batchView(c.get('actor'), batch);
    const ended = !isUnfinished(batch);
    // The batch has just ended: the rows table (hidden while it ran) arrives out of band, first page unfiltered.
    const rows = ended ? await listBatchRows(deps.db, batch.id, { limit: ROWS_PER_PAGE }) : undefined;
    return c.html(
      <>
        <BatchLive {...view} />
        <p id="progress-text" hx-swap-oob="innerHTML">
          {progressSentence(batch)}
        </p>
        {rows ? <RowsSection batchId={batch.id} ended query={{}} rows={rows.rows} next={rows.next} oob /> : null}
      </>,
    );
  });

  /** The rows section alone (filters and keyset page from the query). */
  app.get('/batches/:id/rows', async (c) => {
    const batch = await loadBatch(c);
    if (!batch) return notFoundPage(c);
    const query = rowsQuery(c);
    const page = await listBatchRows(deps.db, batch.id, { ...query, limit: ROWS_PER_PAGE });
    return c.html(<RowsSection batchId={batch.id} ended={!isUnfinished(batch)} query={query} rows={page.rows} next={page.next} />);
  });

  app.get('/batches/:id/rejets.csv', async (c) => {
    const batch = await loadBatch(c);
    if (!batch) return notFoundPage(c);
    try {
      const body = await primed(rejectionsCsv(deps.db, batch));
      return csvDownload(c, `lot-${batch.id}-rejets.csv`, body, batch.encoding ?? 'utf-8');
    } catch (err) {
      if (err instanceof UploadPurgedError) {
        return messagePage(c, 410, 'Fichier supprimé', 'Le fichier déposé a été supprimé à la fin de sa durée de conservation : les lignes rejetées ne peuvent plus être téléchargées telles qu’envoyées. Le rapport complet reste disponible.');
      }
      throw err;
    }
  });

  app.get('/batches/:id/rapport.csv', async (c) => {
    const batch = await loadBatch(c);
    if (!batch) return notFoundPage(c);
    return csvDownload(c, `lot-${batch.id}-rapport.csv`, reportCsv(deps.db, batch), 'utf-8');
  });

  app.post('/batches/:id/cancel', async (c) => {
    const batch = await loadBatch(c);
    if (!batch) return notFoundPage(c);
    // Already ended: nothing to cancel; the page says how it ended.
    await requestCancel(deps.db, scopeOf(c.get('actor')), batch.id);
    deps.log.info({ requestId: c.get('requestId'), batchId: batch.id, userId: c.get('actor').userId }, 'batch cancel requested');
    return c.redirect(`/batches/${batch.id}`, 303);
  });

  app.post('/batches/:id/apply', async (c) => {
    const actor = c.get('actor');
    const batch = await loadBatch(c);
    // Applying changes a firm's portfolio: only that firm's users may, an admin of another firm may not.
    if (!batch || batch.declarant_id !== actor.declarantId) return notFoundPage(c);
    if (batch.mode !== 'dry_run' || batch.status !== 'completed') {
      return messagePage(c, 409, 'Application impossible', 'Seule une simulation terminée peut être appliquée.');
    }
    const applied = await applyDryRun(submitDeps, actor, batch);
    return c.redirect(`/batches/${applied.id}`, 303);
  });

  return app;
}
