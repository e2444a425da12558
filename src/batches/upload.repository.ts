import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { ByteScanner, type ScanResult } from '../csv/scan.ts';

/** Uploads live in PostgreSQL as numbered chunks, so web and workers can run on different machines. */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;

export class UploadTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`File larger than ${limit} bytes`);
  }
}

export interface StoredUpload {
  uploadId: number;
  size: number;
  sha256: string;
}

/**
 * Streams a file into upload_chunk in ~1 MB rows, hashing it on the way, in one transaction: a broken or
 * oversized upload leaves nothing behind. Memory stays at about one chunk whatever the file's size.
 */
export async function storeUpload(
  db: Kysely<Database>,
  input: { declarantId: number; filename: string; body: AsyncIterable<Uint8Array>; maxBytes: number },
): Promise<StoredUpload> {
  return db.transaction().execute(async (trx) => {
    const { id: uploadId } = await trx
      .insertInto('upload')
      .values({ declarant_id: input.declarantId, filename: input.filename, size: 0, sha256: '' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const scanner = new ByteScanner();
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let seq = 0;
    let size = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const data = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      await trx.insertInto('upload_chunk').values({ upload_id: uploadId, seq: seq++, data }).execute();
    };
    for await (const chunk of input.body) {
      size += chunk.length;
      if (size > input.maxBytes) throw new UploadTooLargeError(input.maxBytes);
      scanner.update(chunk);
      pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      pendingBytes += chunk.length;
      if (pendingBytes >= UPLOAD_CHUNK_BYTES) await flush();
    }
    await flush();
    const scan = scanner.finish();
    await trx.updateTable('upload').set({ size, sha256: scan.sha256, scan: JSON.stringify(scan) }).where('id', '=', uploadId).execute();
    return { uploadId, size, sha256: scan.sha256 };
  });
}

/** Removes an upload no batch was created for (a request refused after its file was stored). */
export async function deleteUpload(db: Kysely<Database>, uploadId: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('upload_chunk').where('upload_id', '=', uploadId).execute();
    await trx.deleteFrom('upload').where('id', '=', uploadId).execute();
  });
}

export class UploadPurgedError extends Error {}

export async function findUploadScan(db: Kysely<Database>, uploadId: number): Promise<ScanResult | undefined> {
  const row = await db.selectFrom('upload').select('scan').where('id', '=', uploadId).executeTakeFirst();
  return row?.scan ?? undefined;
}

/**
 * The stored bytes, chunk by chunk, in order; each call starts again from the first byte. The next chunk is
 * fetched while the caller works on the current one.
 */
export function uploadReader(db: Kysely<Database>, uploadId: number): () => AsyncIterable<Uint8Array> {
  const fetchChunk = async (seq: number) => {
    const row = await db.selectFrom('upload_chunk').select('data').where('upload_id', '=', uploadId).where('seq', '=', seq).executeTakeFirst();
    return row?.data;
  };
  return async function* () {
    const upload = await db.selectFrom('upload').select(['purged_at']).where('id', '=', uploadId).executeTakeFirst();
    if (!upload || upload.purged_at) throw new UploadPurgedError(`Upload ${uploadId} is no longer stored`);
    let next = fetchChunk(0);
    for (let seq = 1; ; seq++) {
      const data = await next;
      if (!data) return;
      next = fetchChunk(seq);
      // A consumer that stops early leaves one fetch in flight: let its failure, if any, go unreported.
      next.catch(() => {});
      yield data;
    }
  };
}

/** Deletes the bytes of uploads older than the retention period; the batches and their outcomes stay. */
export async function purgeOldUploads(db: Kysely<Database>, retentionDays: number): Promise<number> {
  const old = await db
    .updateTable('upload')
    .set({ purged_at: new Date() })
    .where('purged_at', 'is', null)
    .where('created_at', '<', new Date(Date.now() - retentionDays * 86_400_000))
    .returning('id')
    .execute();
  if (old.length > 0) await db.deleteFrom('upload_chunk').where('upload_id', 'in', old.map((u) => u.id)).execute();
  return old.length;
}
