import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { ByteScanner } from '../../src/csv/scan.ts';
import { FileError, openImportFile } from '../../src/csv/read-import-file.ts';
import { DEFAULT_CATALOGUE } from '../../src/domain/types.ts';
import { StagedRowWriter } from '../../src/batches/staged-rows.ts';
import { createStagingTable, STAGED_COLUMNS } from '../../src/batches/judge-staged.ts';
import { PartCutter, readInParallel } from '../../src/batches/parallel-read.ts';
import { createTestDb, type TestDb } from '../helpers/db.ts';
import { opener } from '../csv/helpers.ts';

// A large file is read on two threads, cut into parts at guessed record boundaries, each thread writing its rows
// into the staging table. Whatever the file, the rows are those one thread reads, with the same lines — or the
// read says the cut was wrong (and is done again on one thread) — and a file error is the first one in the
// file, at the same line.
const KEY = 'k'.repeat(32);

type Read = { rows: unknown[]; miscut: boolean; candidateLines: number[] } | { error: string };

let testDb: TestDb;
let tableId = 0;
beforeAll(async () => {
  testDb = await createTestDb();
});
afterAll(async () => {
  await testDb?.drop();
});

/** A fresh staging table, and a function that reads its rows in line order. */
async function stagingTable() {
  const client = await testDb.pool.connect();
  try {
    const table = await createStagingTable(client, ++tableId);
    return { table, rows: async () => (await testDb.pool.query(`SELECT * FROM ${table} ORDER BY line`)).rows };
  } finally {
    client.release();
  }
}

async function readOneThread(bytes: Buffer, chunk: number): Promise<Read> {
  const { table, rows } = await stagingTable();
  try {
    const { meta, batches } = await openImportFile(opener(bytes, chunk), scanOf(bytes));
    const writer = new StagedRowWriter({ columns: meta.columns, catalogue: DEFAULT_CATALOGUE, nirHashKey: KEY }, () => {});
    async function* text() {
      for await (const batch of batches) yield* writer.add(batch);
      yield* writer.end();
    }
    const client = await testDb.pool.connect();
    try {
      await pipeline(Readable.from(text()), client.query(copyFrom(`COPY ${table} (${STAGED_COLUMNS}) FROM STDIN`)));
    } finally {
      client.release();
    }
    return { rows: await rows(), miscut: false, candidateLines: [] };
  } catch (err) {
    return { error: errorOf(err) };
  }
}

async function readTwoThreads(bytes: Buffer, chunk: number, partBytes: number): Promise<Read> {
  const { table, rows } = await stagingTable();
  try {
    const { meta, batches } = await openImportFile(opener(bytes, chunk), scanOf(bytes));
    await batches.return(undefined);
    const rules = { columns: meta.columns, catalogue: DEFAULT_CATALOGUE, nirHashKey: KEY };
    const result = await readInParallel({
      open: opener(bytes, chunk),
      meta,
      rules,
      threads: 2,
      partBytes,
      databaseUrl: testDb.url,
      table,
      copyColumns: STAGED_COLUMNS,
    });
    return { rows: result.miscut ? [] : await rows(), miscut: result.miscut, candidateLines: result.candidateLines };
  } catch (err) {
    return { error: errorOf(err) };
  }
}

function scanOf(bytes: Buffer) {
  const scanner = new ByteScanner();
  scanner.update(bytes);
  return scanner.finish();
}

function errorOf(err: unknown): string {
  if (err instanceof FileError) return `${err.code}@${err.line}`;
  throw err;
}

const HEADER = 'action;cas;siren;numero de compte;montant;nom\r\n';

describe('reading a file on two threads', () => {
  it('reads the same rows as one thread, with their lines, across many part and chunk sizes', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => {
      const name = i % 7 === 0 ? '"SARL ""LE PIN"";\r\nsuite"' : i % 11 === 0 ? 'A "B" C' : `Client ${i}`;
      const eol = ['\r\n', '\n', '\r'][i % 3];
      return `ajout;employer;${i % 5 === 0 ? '' : '123456782'};${String(100000000000000000 + (i % 250))};1 234,56;${name}${eol}${i % 13 === 0 ? '\r\n' : ''}`;
    });
    const bytes = Buffer.from(HEADER + rows.join(''), 'latin1');
    const expected = await readOneThread(bytes, 4096);
    expect('rows' in expected && expected.rows.length).toBe(300);
    for (const [chunk, part] of [[4096, 64], [97, 200], [1000, 1000], [13, 5000], [65536, 3000]]) {
      const actual = await readTwoThreads(bytes, chunk, part);
      expect(actual, `chunk ${chunk}, part ${part}`).toMatchObject({ miscut: false, rows: (expected as { rows: unknown[] }).rows });
    }
  });

  it('finds every key that appears twice, whichever thread saw each', async () => {
    const account = (i: number) => '117' + String(i).padStart(15, '0');
    const lines = Array.from({ length: 400 }, (_, i) => `suppression;;;${account(i % 390)};;x\n`);
    const bytes = Buffer.from(HEADER + lines.join(''), 'latin1');
    const read = await readTwoThreads(bytes, 512, 300);
    if (!('rows' in read)) throw new Error(read.error);
    const rows = read.rows as { line: number; account_number: string; codes: string[] }[];
    const keyOf = new Map(rows.map((r) => [r.line, r.account_number]));
    const flagged = new Set(read.candidateLines.map((line) => keyOf.get(line)));
    // Accounts 0..9 appear twice (lines i + 2 and i + 392).
    for (let i = 0; i < 10; i++) expect(flagged.has(account(i))).toBe(true);
    expect(rows.every((r) => r.codes.length === 0)).toBe(true);
  });

  it('says the cut was wrong when a quote inside an unquoted field hides a quoted line break', async () => {
    // `a"b` is literal; the quoted name that follows spans two lines: a cut after its first line is in the middle.
    const rows = Array.from({ length: 60 }, (_, i) => `ajout;a"b;123456782;${100000000000000000 + i};1;"X\nY"\n`);
    const bytes = Buffer.from(HEADER + rows.join(''), 'latin1');
    const expected = await readOneThread(bytes, 4096);
    let miscuts = 0;
    for (const part of [40, 100, 333]) {
      const actual = await readTwoThreads(bytes, 4096, part);
      if ('miscut' in actual && actual.miscut) miscuts++;
      else expect(actual).toMatchObject(expected);
    }
    expect(miscuts).toBeGreaterThan(0);
  });

  it('fails with the first error in the file, at its line, whichever part holds it', async () => {
    const good = (i: number) => `ajout;employer;123456782;${100000000000000000 + i};1;x\n`;
    const rows = Array.from({ length: 200 }, (_, i) => good(i));
    for (const at of [5, 100, 199]) {
      const bad = [...rows];
      bad[at] = `ajout;employer;"unclosed;${'z'.repeat(70_000)}\n`;
      const bytes = Buffer.from(HEADER + bad.join(''), 'latin1');
      const expected = await readOneThread(bytes, 4096);
      expect(expected).toEqual({ error: `FILE_MALFORMED@${at + 2}` });
      expect(await readTwoThreads(bytes, 4096, 500)).toEqual(expected);
    }
    expect(await readTwoThreads(Buffer.from(HEADER + '\r\n;;\r\n', 'latin1'), 7, 3)).toEqual({ error: 'FILE_EMPTY@null' });
  });

  it('counts lines as the CSV reader does, a CRLF split across two pieces included', () => {
    const text = Buffer.from('a\r\nb\rc\nd\r', 'latin1');
    for (let split = 0; split <= text.length; split++) {
      const cutter = new PartCutter(1e9);
      cutter.feed(text.subarray(0, split));
      cutter.feed(text.subarray(split));
      cutter.feed(Buffer.from('x'));
      expect(cutter.line, `split at ${split}`).toBe(5);
    }
  });
});
