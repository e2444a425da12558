import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { to as copyTo } from 'pg-copy-streams';
import { createTestDb, type TestDb } from '../helpers/db.ts';
import {
  binaryCopyValues,
  purgeOldUploads,
  storeUpload,
  UPLOAD_CHUNK_BYTES,
  UploadPurgedError,
  UploadTooLargeError,
  uploadCopyReader,
  uploadReader,
} from '../../src/batches/upload.repository.ts';

let t: TestDb;
let declarantId: number;

beforeAll(async () => {
  t = await createTestDb();
  ({ id: declarantId } = await t.db.insertInto('declarant').values({ name: 'Cabinet U' }).returning('id').executeTakeFirstOrThrow());
});
afterAll(async () => t?.drop());

async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function store(bytes: Buffer, pieceSize = 64 * 1024) {
  return storeUpload(t.pool, { declarantId, filename: 'f.csv', body: pieces(bytes, pieceSize), maxBytes: 100 * 1024 * 1024 });
}

async function readAll(open: () => AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of open()) parts.push(Uint8Array.from(part));
  return Buffer.concat(parts);
}

/** The raw bytes of a binary COPY of the upload's chunks, as PostgreSQL sends them. */
async function rawCopy(uploadId: number): Promise<Buffer> {
  const client = await t.pool.connect();
  try {
    const parts: Buffer[] = [];
    const stream = client.query(copyTo(`COPY (SELECT data FROM upload_chunk WHERE upload_id = ${uploadId} ORDER BY seq) TO STDOUT (FORMAT binary)`));
    for await (const part of stream) parts.push(part as Buffer);
    return Buffer.concat(parts);
  } finally {
    client.release();
  }
}

/** The two ways of reading an upload back: a query a chunk (downloads), one COPY (a worker reading the file). */
const readers = [
  ['a query a chunk', (id: number) => uploadReader(t.db, id)],
  ['one COPY', (id: number) => uploadCopyReader(t.pool, id)],
] as const;

describe.each(readers)('uploads: stored in chunks, read back by %s', (_label, reader) => {
  it('gives back every byte, in order, across several chunks and an empty upload', async () => {
    const bytes = randomBytes(2 * UPLOAD_CHUNK_BYTES + 12_345);
    const stored = await store(bytes);
    expect(stored.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const chunks = await t.db.selectFrom('upload_chunk').select('seq').where('upload_id', '=', stored.uploadId).execute();
    expect(chunks).toHaveLength(3);
    const read = await readAll(reader(stored.uploadId));
    expect(read.equals(bytes)).toBe(true);
    // each call starts again from the first byte
    expect((await readAll(reader(stored.uploadId))).equals(bytes)).toBe(true);

    const empty = await store(Buffer.alloc(0));
    expect(await readAll(reader(empty.uploadId))).toHaveLength(0);
  });

  it('says when the upload was purged', async () => {
    const { uploadId } = await store(randomBytes(100));
    await t.db.updateTable('upload').set({ created_at: new Date(Date.now() - 40 * 86_400_000) }).where('id', '=', uploadId).execute();
    expect(await purgeOldUploads(t.db, 30)).toBeGreaterThanOrEqual(1);
    await expect(readAll(reader(uploadId))).rejects.toBeInstanceOf(UploadPurgedError);
  });
});

describe('uploads read back by one COPY', () => {
  it('parses the COPY stream however its buffers are cut, and refuses one cut short', async () => {
    const bytes = randomBytes(3000);
    const { uploadId } = await store(bytes, 1000);
    const raw = await rawCopy(uploadId);
    for (const size of [1, 2, 3, 5, 19, 21, 1000, raw.length]) {
      const values: Uint8Array[] = [];
      for await (const v of binaryCopyValues(pieces(raw, size) as AsyncIterable<Buffer>)) values.push(Uint8Array.from(v));
      expect(Buffer.concat(values).equals(bytes), `pieces of ${size}`).toBe(true);
    }
    const cut = async () => {
      for await (const _ of binaryCopyValues(pieces(raw.subarray(0, raw.length - 10), 7) as AsyncIterable<Buffer>)) void _;
    };
    await expect(cut()).rejects.toThrow(/cut short/);
    const notCopy = async () => {
      for await (const _ of binaryCopyValues(pieces(Buffer.from('not a binary COPY stream at all'), 4) as AsyncIterable<Buffer>)) void _;
    };
    await expect(notCopy()).rejects.toThrow(/signature/);
  });

  it('frees its connection when the reader stops early, and the pool goes on', async () => {
    const { uploadId } = await store(randomBytes(3 * UPLOAD_CHUNK_BYTES));
    for (let i = 0; i < 12; i++) {
      // more early stops than the pool has connections: a leaked one would hang this loop
      for await (const _ of uploadCopyReader(t.pool, uploadId)()) break;
    }
    const { rows } = await t.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY (SELECT data FROM upload_chunk%'`);
    expect(rows[0].n).toBe(0);
    expect((await readAll(uploadCopyReader(t.pool, uploadId))).length).toBe(3 * UPLOAD_CHUNK_BYTES);
  });
});

describe('storing an upload', () => {
  const uploads = async () => (await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM upload_chunk')).rows[0].n +
    (await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM upload')).rows[0].n;

  it('leaves nothing behind when the file is over the limit or the request breaks off after chunks were written', async () => {
    const before = await uploads();
    const bytes = randomBytes(5 * UPLOAD_CHUNK_BYTES);
    const tooLarge = storeUpload(t.pool, { declarantId, filename: 'f.csv', body: pieces(bytes, 64 * 1024), maxBytes: 3 * UPLOAD_CHUNK_BYTES });
    await expect(tooLarge).rejects.toBeInstanceOf(UploadTooLargeError);
    async function* brokenOff() {
      yield* pieces(bytes.subarray(0, 3 * UPLOAD_CHUNK_BYTES), 64 * 1024);
      throw new Error('client went away');
    }
    await expect(storeUpload(t.pool, { declarantId, filename: 'f.csv', body: brokenOff(), maxBytes: 100 * UPLOAD_CHUNK_BYTES })).rejects.toThrow('client went away');
    expect(await uploads()).toBe(before);
    // the connections those attempts used are not left in a broken COPY: the pool goes on
    for (let i = 0; i < 12; i++) await store(randomBytes(10));
    expect(await uploads()).toBe(before + 24);
  });
});
