import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Outcome, ServiceCatalogue } from '../domain/types.ts';
import { openImportFile, FileError } from '../csv/read-import-file.ts';
import type { ScanResult } from '../csv/scan.ts';
import { checkRow, type CheckedRow } from '../rows/check-row.ts';
import { maskNir } from '../identifiers/nir.ts';
import { hashNir } from '../users/secret.ts';
import { CopyChunks, copyCodeArray, copyNumber, copyText } from './copy-text.ts';
import { createStagingTable, judgeStagedRows, STAGED_COLUMNS } from './judge-staged.ts';
import { KeyFilter } from './key-filter.ts';
import { createBatchRowTable, indexAndAttachBatchRowTable } from './batch-row-table.ts';

export { FileError };

export interface StageInput {
  batchId: number;
  declarantId: number;
  open: () => AsyncIterable<Uint8Array>;
  /** The upload's scan, when stored with it: saves a pass over the bytes. */
  scan?: ScanResult;
  catalogue: ServiceCatalogue;
  nirHashKey: string;
  onProgress?: (bytesRead: number) => void;
}

export interface StageResult {
  total: number;
  counts: Record<Outcome, number>;
  codeCounts: Record<string, number>;
}

/**
 * Reads the whole file and judges every row — stage 1 (format) in JS while reading, stages 2 (duplicates),
 * 3 (registry, proof lock) and 4 (portfolio) in one SQL statement over the whole file against the state as it
 * stands now — into the batch's own rows table, indexed and attached to batch_row, in one transaction. The outcomes are the plan; nothing is applied to any
 * portfolio here. A file-level failure throws FileError and leaves no row behind.
 *
 * The caller runs this only once the declarant's earlier batches have ended, so the state every row is
 * judged against cannot move under it. Parsing overlaps with PostgreSQL taking the COPY.
 */
export async function stageBatch(pool: pg.Pool, input: StageInput): Promise<StageResult> {
  let bytesRead = 0;
  const countingOpen = () => {
    const source = input.open();
    return (async function* () {
      for await (const chunk of source) {
        bytesRead += chunk.length;
        input.onProgress?.(bytesRead);
        yield chunk;
      }
    })();
  };
  const { meta, batches } = await openImportFile(countingOpen, input.scan);
  const keys = new KeyFilter();
  const candidateKeys = new Set<string>();
  let total = 0;

  /** Stage-1 rows as COPY text, ~256 KB a write. */
  async function* copyChunks(): AsyncGenerator<Buffer> {
    const chunks = new CopyChunks();
    for await (const batch of batches) {
      for (const { line, cells } of batch) {
        const row = checkRow(meta.columns, cells, input.catalogue);
        total++;
        // Rows by account number are most of a file: the filter keeps their few possible duplicates. Removes by
        // SIREN alone get their key in SQL and are always looked at (see judgeStagedRows).
        if (row.codes.length === 0 && row.accountNumber !== null && keys.addAndTest(row.accountNumber)) {
          // A copy, not the cell: a cell can be a slice of the whole decoded chunk of text, which it would keep alive.
          candidateKeys.add(Buffer.from(row.accountNumber, 'latin1').toString('latin1'));
        }
        for (const full of chunks.add(stagedRowText(line, row, input.nirHashKey))) yield full;
      }
    }
    for (const full of chunks.end()) yield full;
  }

  let counts: Record<Outcome, number> = { added: 0, removed: 0, updated: 0, unchanged: 0, rejected: 0 };
  let codeCounts: Record<string, number> = {};
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    // Two attempts at one batch (a stalled job taken over while its first worker still runs) read the file one
    // after the other; the second finds the rows staged and stops, instead of judging them again against a
    // portfolio the first may already have started to change. (A row lock on the batch would also block the
    // progress and cancel updates for the whole read.)
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [STAGE_LOCK_CLASS, input.batchId]);
    const { rows: current } = await client.query<{ staged: boolean }>('SELECT staged FROM batch WHERE id = $1', [input.batchId]);
    if (current[0]?.staged) {
      await client.query('ROLLBACK');
      await batches.return(undefined);
      return { total: 0, counts, codeCounts };
    }
    const table = await createBatchRowTable(client, input.batchId);
    await createStagingTable(client);
    await pipeline(Readable.from(copyChunks()), client.query(copyFrom(`COPY staged_row (${STAGED_COLUMNS}) FROM STDIN`)));
    ({ counts, codeCounts } = await judgeStagedRows(client, table, input.batchId, input.declarantId, [...candidateKeys]));
    await indexAndAttachBatchRowTable(client, input.batchId);
    await client.query(
      `UPDATE batch SET staged = true, staged_at = clock_timestamp(), total = $2, bytes_read = size, encoding = $3,
         delimiter = $4, line_ending = $5, bom = $6, header_cells = $7, columns = $8, warnings = $9, code_counts = $10
       WHERE id = $1`,
      [
        input.batchId,
        total,
        meta.encoding,
        meta.delimiter,
        meta.lineEnding,
        meta.bom,
        JSON.stringify(meta.headerCells),
        JSON.stringify(meta.columns),
        JSON.stringify(meta.warnings),
        JSON.stringify(codeCounts),
      ],
    );
    await client.query('COMMIT');
  } catch (err) {
    // After an aborted COPY the connection's state is not worth trusting: roll back, then discard it.
    await client.query('ROLLBACK').catch(() => {});
    broken = err as Error;
    throw err;
  } finally {
    client.release(broken);
  }
  return { total, counts, codeCounts };
}

/** The first key of the advisory lock that serialises the reading of one batch (the second is the batch id). */
const STAGE_LOCK_CLASS = 7301;

/** One staged row as a line of COPY text (columns as STAGED_COLUMNS). */
function stagedRowText(line: number, row: CheckedRow, nirHashKey: string): string {
  return (
    line + '\t' +
    copyText(row.action) + '\t' +
    copyText(row.clientCase) + '\t' +
    copyText(row.siren) + '\t' +
    copyText(row.siret) + '\t' +
    copyText(row.accountNumber) + '\t' +
    copyNumber(row.amountCents) + '\t' +
    copyText(row.nir === null ? null : hashNir(nirHashKey, row.nir)) + '\t' +
    copyText(row.nir === null ? null : maskNir(row.nir)) + '\t' +
    copyCodeArray(row.onlineServices) + '\t' +
    copyCodeArray(row.emailServices) + '\t' +
    copyText(row.name) + '\t' +
    copyCodeArray(row.codes) + '\t' +
    copyText(row.message) + '\n'
  );
}
