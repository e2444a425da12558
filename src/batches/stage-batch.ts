import type { Kysely } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Database } from '../db/database.ts';
import type { ServiceCatalogue } from '../domain/types.ts';
import { openImportFile, FileError } from '../csv/read-import-file.ts';
import type { ScanResult } from '../csv/scan.ts';
import { checkRow } from '../rows/check-row.ts';
import { maskNir } from '../identifiers/nir.ts';
import { hashNir } from '../users/secret.ts';
import { copyCodeArray, copyNumber, copyText } from './copy-text.ts';

export { FileError };

export interface StageResult {
  total: number;
}

const COPY_COLUMNS =
  'batch_id, line, action, client_case, siren, siret, account_number, amount_cents, nir_hash, nir_masked, ' +
  'online_services, email_services, name, client_key, codes, message';

/**
 * Phase 1: reads and checks the whole file (stage 1 of the rules) into batch_row, in one transaction on one
 * client, through COPY in large writes. A file-level failure throws FileError and leaves no row behind;
 * nothing is applied to any portfolio in this phase.
 */
export async function stageBatch(
  pool: pg.Pool,
  db: Kysely<Database>,
  input: {
    batchId: number;
    open: () => AsyncIterable<Uint8Array>;
    /** The upload's scan, when stored with it: saves a pass over the bytes. */
    scan?: ScanResult;
    catalogue: ServiceCatalogue;
    nirHashKey: string;
    onProgress?: (bytesRead: number) => void;
  },
): Promise<StageResult> {
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
  const { meta, records } = await openImportFile(countingOpen, input.scan);
  const client = await pool.connect();
  let total = 0;
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query('DELETE FROM batch_row WHERE batch_id = $1', [input.batchId]);
    const batchId = String(input.batchId);
    async function* lines(): AsyncGenerator<string> {
      let buf = '';
      for await (const { line, cells } of records) {
        const row = checkRow(meta.columns, cells, input.catalogue);
        total++;
        const passed = row.codes.length === 0;
        buf +=
          batchId + '\t' + line + '\t' +
          copyText(row.action) + '\t' +
          copyText(row.clientCase) + '\t' +
          copyText(row.siren) + '\t' +
          copyText(row.siret) + '\t' +
          copyText(row.accountNumber) + '\t' +
          copyNumber(row.amountCents) + '\t' +
          copyText(row.nir === null ? null : hashNir(input.nirHashKey, row.nir)) + '\t' +
          copyText(row.nir === null ? null : maskNir(row.nir)) + '\t' +
          copyCodeArray(row.onlineServices) + '\t' +
          copyCodeArray(row.emailServices) + '\t' +
          copyText(row.name) + '\t' +
          copyText(passed ? row.accountNumber : null) + '\t' +
          copyCodeArray(row.codes) + '\t' +
          copyText(row.message) + '\n';
        if (buf.length >= 64 * 1024) {
          yield buf;
          buf = '';
        }
      }
      if (buf.length > 0) yield buf;
    }
    const copy = client.query(copyFrom(`COPY batch_row (${COPY_COLUMNS}) FROM STDIN`));
    await pipeline(Readable.from(lines()), copy);
    await client.query(
      `UPDATE batch SET staged = true, total = $2, bytes_read = size, encoding = $3, delimiter = $4,
         line_ending = $5, bom = $6, header_cells = $7, columns = $8, warnings = $9
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
  return { total };
}
