import { Hono, type Context } from 'hono';
import { stream } from 'hono/streaming';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { submitDepsOf, type AppDeps, type AppEnv } from '../context.ts';
import { findActorByToken } from '../../src/users/user.repository.ts';
import { declarantScope, findBatch, listBatches, listBatchRows, requestCancel } from '../../src/batches/batch.repository.ts';
import { applyDryRun, storeBatchUpload, submitBatch, discardBatchUpload } from '../../src/batches/submit-batch.ts';
import { rejectionsCsv, reportCsv } from '../../src/batches/export.ts';
import { UploadPurgedError, UploadTooLargeError } from '../../src/batches/upload.repository.ts';
import { listPortfolioClients } from '../../src/portfolio/portfolio.repository.ts';
import { OUTCOMES, REJECTION_CODES, INFO_CODES } from '../../src/domain/types.ts';
import { parseId, parseLimit } from '../format.ts';
import { batchJson, rowJson } from '../../src/batches/batch-json.ts';
import { parseUpload } from '../multipart.ts';
import { HTTPException } from 'hono/http-exception';

const KNOWN_CODES = new Set<string>([...REJECTION_CODES, ...INFO_CODES]);

export function apiError(c: Context, status: ContentfulStatusCode, code: string, message: string) {
  return c.json({ error: { code, message } }, status);
}

/** Streams an async generator of bytes as a CSV download. */
export function csvDownload(c: Context, filename: string, body: AsyncGenerator<Buffer>, charset: string) {
  c.header('Content-Type', `text/csv; charset=${charset}`);
  c.header('Content-Disposition', `attachment; filename="${filename}"`);
  c.header('Cache-Control', 'no-store');
  return stream(c, async (s) => {
    for await (const chunk of body) await s.write(chunk);
  });
}

/** Starts a generator so that an error before its first chunk (a purged upload) becomes a status, not a broken body. */
export async function primed(gen: AsyncGenerator<Buffer>): Promise<AsyncGenerator<Buffer>> {
  const first = await gen.next();
  return (async function* () {
    if (!first.done) yield first.value;
    yield* gen;
  })();
}

export function apiRoutes(deps: AppDeps) {
  const api = new Hono<AppEnv>();
  const submitDeps = submitDepsOf(deps);

  api.use('*', async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const actor = match ? await findActorByToken(deps.db, match[1]) : undefined;
    if (!actor) return apiError(c, 401, 'UNAUTHORIZED', 'Missing or invalid API token');
    c.set('actor', actor);
    await next();
  });

  /** The batch of the token's declarant, or a 404 exactly like a batch that does not exist. */
  const ownBatch = async (c: Context<AppEnv>) => {
    const id = parseId(c.req.param('id'));
    const batch = id === undefined ? undefined : await findBatch(deps.db, declarantScope(c.get('actor').declarantId), id);
    if (!batch) throw new HTTPException(404, { message: 'Batch not found' });
    return batch;
  };

  api.post('/batches', async (c) => {
    const actor = c.get('actor');
    let upload;
    try {
      upload = await parseUpload(c.req.raw, deps.config.uploadMaxBytes, (body, filename) =>
        storeBatchUpload(submitDeps, actor, filename, body),
        (stored) => discardBatchUpload(submitDeps, stored),
      );
    } catch (err) {
      if (err instanceof UploadTooLargeError) throw new HTTPException(413, { message: 'File too large' });
      throw err;
    }
    const mode = upload.fields.mode || 'apply';
    if (mode !== 'apply' && mode !== 'dry_run') return apiError(c, 400, 'BAD_REQUEST', 'mode must be "apply" or "dry_run"');
    const batch = await submitBatch(submitDeps, { actor, filename: upload.file.filename, mode, stored: upload.file.result });
    return c.json({ id: batch.id, status: batch.status, url: `/api/v1/batches/${batch.id}` }, 202);
  });

  api.get('/batches', async (c) => {
    const limit = parseLimit(c.req.query('limit'), 50, 200);
    const afterRaw = c.req.query('after');
    const after = afterRaw ? parseId(afterRaw) : undefined;
    if (limit === undefined || (afterRaw && after === undefined)) return apiError(c, 400, 'BAD_REQUEST', 'Invalid after or limit');
    const { batches, next } = await listBatches(deps.db, declarantScope(c.get('actor').declarantId), { after, limit });
    return c.json({ batches: batches.map(batchJson), next });
  });

  api.get('/batches/:id', async (c) => c.json(batchJson(await ownBatch(c))));

  api.get('/batches/:id/rows', async (c) => {
    const batch = await ownBatch(c);
    const outcome = c.req.query('outcome') || undefined;
    const code = c.req.query('code') || undefined;
    const limit = parseLimit(c.req.query('limit'), 100, 1000);
    const afterRaw = c.req.query('after');
    const after = afterRaw ? Number(afterRaw) : undefined;
    if (outcome && !(OUTCOMES as readonly string[]).includes(outcome)) return apiError(c, 400, 'BAD_REQUEST', 'Unknown outcome');
    if (code && !KNOWN_CODES.has(code)) return apiError(c, 400, 'BAD_REQUEST', 'Unknown code');
    if (limit === undefined || (after !== undefined && !(Number.isInteger(after) && after >= 0))) {
      return apiError(c, 400, 'BAD_REQUEST', 'Invalid after or limit');
    }
    const page = await listBatchRows(deps.db, batch.id, { outcome, code, after, limit });
    return c.json({ rows: page.rows.map(rowJson), next: page.next });
  });

  api.get('/batches/:id/rejections.csv', async (c) => {
    const batch = await ownBatch(c);
    try {
      const body = await primed(rejectionsCsv(deps.db, batch));
      return csvDownload(c, `lot-${batch.id}-rejets.csv`, body, batch.encoding ?? 'utf-8');
    } catch (err) {
      if (err instanceof UploadPurgedError) return apiError(c, 410, 'GONE', 'The uploaded file has been purged (retention period)');
      throw err;
    }
  });

  api.get('/batches/:id/report.csv', async (c) => {
    const batch = await ownBatch(c);
    return csvDownload(c, `lot-${batch.id}-rapport.csv`, reportCsv(deps.db, batch), 'utf-8');
  });

  api.post('/batches/:id/cancel', async (c) => {
    const batch = await ownBatch(c);
    const cancelled = await requestCancel(deps.db, declarantScope(batch.declarant_id), batch.id);
    if (!cancelled) return apiError(c, 409, 'CONFLICT', 'The batch has already ended');
    return c.json({ id: cancelled.id, status: cancelled.status }, 202);
  });

  api.post('/batches/:id/apply', async (c) => {
    const batch = await ownBatch(c);
    if (batch.mode !== 'dry_run' || batch.status !== 'completed') {
      return apiError(c, 409, 'CONFLICT', 'Only a completed dry run can be applied');
    }
    const applied = await applyDryRun(submitDeps, c.get('actor'), batch);
    return c.json({ id: applied.id, status: applied.status, url: `/api/v1/batches/${applied.id}` }, 202);
  });

  api.get('/portfolio', async (c) => {
    const limit = parseLimit(c.req.query('limit'), 100, 1000);
    if (limit === undefined) return apiError(c, 400, 'BAD_REQUEST', 'Invalid limit');
    const page = await listPortfolioClients(deps.db, c.get('actor').declarantId, {
      q: c.req.query('q'),
      after: c.req.query('after') || undefined,
      limit,
    });
    return c.json(page);
  });

  return api;
}
