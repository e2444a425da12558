import type { Kysely } from 'kysely';
import iconv from 'iconv-lite';
import type { Batch, Database } from '../db/database.ts';
import type { Delimiter, LineEnding } from '../domain/types.ts';
import { openImportFile } from '../csv/read-import-file.ts';
import { rowMessage } from '../domain/messages.ts';
import { findUploadScan, uploadReader } from './upload.repository.ts';

const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20']);

/** A cell a spreadsheet would run as a formula gets a leading `'` (which reading an import file drops again). */
export function formulaSafe(cell: string): string {
  return cell.length > 0 && FORMULA_START.has(cell[0]) ? `'${cell}` : cell;
}

export function csvLine(cells: readonly string[], delimiter: string, lineEnding: string): string {
  let out = '';
  for (let i = 0; i < cells.length; i++) {
    const v = formulaSafe(cells[i]);
    if (i > 0) out += delimiter;
    out += v.includes(delimiter) || v.includes('"') || v.includes('\n') || v.includes('\r') ? `"${v.replace(/"/g, '""')}"` : v;
  }
  return out + lineEnding;
}

function encoder(encoding: string, bom: boolean) {
  let first = true;
  return (text: string): Buffer => {
    const prefix = first && bom ? '\uFEFF' : '';
    first = false;
    return encoding === 'windows-1252' ? iconv.encode(prefix + text, 'windows-1252') : Buffer.from(prefix + text, 'utf8');
  };
}

/** Outcomes are real up to the checkpoint until the batch completes (see listBatchRows). */
function visibleThrough(batch: Batch): number {
  return batch.status === 'completed' ? 2_147_483_647 : batch.applied_through;
}

/** Rejected lines with their codes and messages, in line order, a page at a time. */
async function* rejectedRows(db: Kysely<Database>, batch: Batch) {
  let after = 0;
  for (;;) {
    const page = await db
      .selectFrom('batch_row')
      .select(['line', 'codes', 'message'])
      .where('batch_id', '=', batch.id)
      .where('outcome', '=', 'rejected')
      .where('line', '<=', visibleThrough(batch))
      .where('line', '>', after)
      .orderBy('line')
      .limit(5000)
      .execute();
    yield* page;
    if (page.length < 5000) return;
    after = page[page.length - 1].line;
  }
}

/**
 * The rejected-rows file: the upload's own encoding, BOM, delimiter and line ending; `ligne`, every column of
 * the upload in its order, then `codes` and `motif`; values as read, so the firm can fix and upload it again.
 * Streams the stored upload once more beside the rejected rows (both in line order). Throws UploadPurgedError
 * once retention has deleted the upload.
 */
export async function* rejectionsCsv(db: Kysely<Database>, batch: Batch): AsyncGenerator<Buffer> {
  const { meta, records } = await openImportFile(uploadReader(db, batch.upload_id), await findUploadScan(db, batch.upload_id));
  const delimiter: Delimiter = meta.delimiter;
  const eol: LineEnding = meta.lineEnding;
  const encode = encoder(meta.encoding, meta.bom);
  yield encode(csvLine(['ligne', ...meta.headerCells, 'codes', 'motif'], delimiter, eol));
  const rejected = rejectedRows(db, batch);
  let next = await rejected.next();
  let buf = '';
  for await (const { line, cells } of records) {
    if (next.done) break;
    if (line !== next.value.line) continue;
    buf += csvLine([String(line), ...cells, next.value.codes.join(','), rowMessage(next.value.message, next.value.codes)], delimiter, eol);
    if (buf.length > 64 * 1024) {
      yield encode(buf);
      buf = '';
    }
    next = await rejected.next();
  }
  if (buf) yield encode(buf);
}

export const REPORT_HEADER = ['ligne', 'action', 'cas', 'siren', 'siret', 'numero_compte', 'nom', 'nir', 'resultat', 'codes', 'motif'];

/** Every row with its outcome and codes; UTF-8 with BOM, `;`, CRLF (what French Excel opens); NIRs masked. */
export async function* reportCsv(db: Kysely<Database>, batch: Batch): AsyncGenerator<Buffer> {
  const encode = encoder('utf-8', true);
  yield encode(csvLine(REPORT_HEADER, ';', '\r\n'));
  let after = 0;
  for (;;) {
    const page = await db
      .selectFrom('batch_row')
      .select(['line', 'action', 'client_case', 'siren', 'siret', 'account_number', 'name', 'nir_masked', 'outcome', 'codes', 'message'])
      .where('batch_id', '=', batch.id)
      .where('line', '>', after)
      .orderBy('line')
      .limit(5000)
      .execute();
    let buf = '';
    for (const r of page) {
      if (r.line > visibleThrough(batch)) {
        r.outcome = null;
        r.codes = [];
        r.message = '';
      }
      buf += csvLine(
        [String(r.line), r.action ?? '', r.client_case ?? '', r.siren ?? '', r.siret ?? '', r.account_number ?? '', r.name ?? '',
          r.nir_masked ?? '', r.outcome ?? '', r.codes.join(','), rowMessage(r.message, r.codes)],
        ';',
        '\r\n',
      );
    }
    if (buf) yield encode(buf);
    if (page.length < 5000) return;
    after = page[page.length - 1].line;
  }
}
