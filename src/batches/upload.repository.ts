import type { Kysely } from 'kysely';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
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

/** Throws UploadPurgedError unless the upload's row says its bytes are still stored. */
function assertStored(upload: { purged_at: Date | null } | undefined, uploadId: number): void {
  if (!upload || upload.purged_at) throw new UploadPurgedError(`Upload ${uploadId} is no longer stored`);
}

export async function findUploadScan(db: Kysely<Database>, uploadId: number): Promise<ScanResult | undefined> {
  const row = await db.selectFrom('upload').select('scan').where('id', '=', uploadId).executeTakeFirst();
  return row?.scan ?? undefined;
}

/**
 * The stored bytes, chunk by chunk, in order, one query a chunk; each call starts again from the first byte. The
 * next chunk is fetched while the caller works on the current one. For a download, which a slow client may stall:
 * no connection is held between two chunks.
 */
export function uploadReader(db: Kysely<Database>, uploadId: number): () => AsyncIterable<Uint8Array> {
  const fetchChunk = async (seq: number) => {
    const row = await db.selectFrom('upload_chunk').select('data').where('upload_id', '=', uploadId).where('seq', '=', seq).executeTakeFirst();
    return row?.data;
  };
  return async function* () {
    assertStored(await db.selectFrom('upload').select(['purged_at']).where('id', '=', uploadId).executeTakeFirst(), uploadId);
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

/**
 * The same bytes streamed by one COPY on a connection held until the end (binary format: the bytes as stored, no
 * hex text), for a worker reading a whole file as fast as it can. One query a chunk cost the worker ~2 s of CPU for
 * a 100 MB upload (hex text, megabyte messages reassembled); the COPY ~0.2 s. A consumer that stops early
 * discards the connection, which ends the COPY.
 */
export function uploadCopyReader(pool: pg.Pool, uploadId: number): () => AsyncIterable<Uint8Array> {
  if (!Number.isSafeInteger(uploadId)) throw new Error(`not an upload id: ${uploadId}`);
  return async function* () {
    const client = await pool.connect();
    let ended = false;
    try {
      const { rows } = await client.query<{ purged_at: Date | null }>('SELECT purged_at FROM upload WHERE id = $1', [uploadId]);
      assertStored(rows[0], uploadId);
      const copy = client.query(copyTo(`COPY (SELECT data FROM upload_chunk WHERE upload_id = ${uploadId} ORDER BY seq) TO STDOUT (FORMAT binary)`));
      yield* binaryCopyValues(copy);
      ended = true;
    } finally {
      client.release(ended ? undefined : new Error('upload not read to its end'));
    }
  };
}

const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * The values of a binary COPY of one non-null bytea column, as pieces of the stream's own buffers: after the
 * header (signature, flags, extension), each row is a field count, then the value's length and bytes; a field
 * count of -1 ends the data.
 */
export async function* binaryCopyValues(stream: AsyncIterable<Buffer>): AsyncGenerator<Uint8Array> {
  // The fixed-size parts (header, field count, length) are gathered here, as they may straddle two buffers.
  const head = Buffer.alloc(19);
  let headLength = 0;
  let want: 'header' | 'extension' | 'count' | 'length' | 'value' | 'done' = 'header';
  let remaining = 19; // bytes still wanted for `want`
  for await (const chunk of stream) {
    let at = 0;
    while (at < chunk.length) {
      if (want === 'done') throw new Error('binary COPY: data after its end');
      if (want === 'value' || want === 'extension') {
        const take = Math.min(remaining, chunk.length - at);
        if (want === 'value') yield chunk.subarray(at, at + take);
        at += take;
        remaining -= take;
      } else {
        const take = Math.min(remaining, chunk.length - at);
        chunk.copy(head, headLength, at, at + take);
        headLength += take;
        at += take;
        remaining -= take;
        if (remaining > 0) continue;
        headLength = 0;
        if (want === 'header') {
          if (!head.subarray(0, 11).equals(COPY_SIGNATURE)) throw new Error('binary COPY: bad signature');
          remaining = head.readUInt32BE(15);
          want = 'extension';
        } else if (want === 'count') {
          const fields = head.readInt16BE(0);
          if (fields === -1) want = 'done';
          else if (fields !== 1) throw new Error(`binary COPY: ${fields} fields, one expected`);
          else [want, remaining] = ['length', 4];
          continue;
        } else {
          remaining = head.readInt32BE(0);
          if (remaining < 0) throw new Error('binary COPY: a null value');
          want = 'value';
        }
      }
      if (remaining === 0) [want, remaining] = ['count', 2];
    }
  }
  if (want !== 'done') throw new Error('binary COPY: data cut short');
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
