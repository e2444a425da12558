import type { ServiceCatalogue } from '../domain/types.ts';
import type { ImportRecord } from '../csv/read-import-file.ts';
import type { Column } from '../domain/types.ts';
import { checkRow, type CheckedRow } from '../rows/check-row.ts';
import { maskNir } from '../identifiers/nir.ts';
import { hashNir } from '../users/secret.ts';
import { CopyChunks, copyCodeArray, copyNumber, copyText } from './copy-text.ts';

export interface StageRules {
  columns: readonly (Column | null)[];
  catalogue: ServiceCatalogue;
  nirHashKey: string;
}

/**
 * Stage 1 of a file's records, as COPY text for the staging table (columns as STAGED_COLUMNS), gathered into
 * ~256 KB buffers. Every row keyed by a valid account number is shown to `noteKey`, which finds the keys that
 * may repeat (stage 2 settles them in SQL); removes by SIREN alone get their key in SQL and are always looked at.
 */
export class StagedRowWriter {
  rows = 0;
  private readonly chunks = new CopyChunks();

  constructor(
    private readonly rules: StageRules,
    private readonly noteKey: (line: number, accountNumber: string) => void,
  ) {}

  /** Adds records; returns the buffers now full, in order (most calls: none). */
  add(records: readonly ImportRecord[]): Buffer[] {
    const { columns, catalogue, nirHashKey } = this.rules;
    let full: Buffer[] = NONE;
    for (const { line, cells } of records) {
      const row = checkRow(columns, cells, catalogue);
      this.rows++;
      if (row.codes.length === 0 && row.accountNumber !== null) this.noteKey(line, row.accountNumber);
      const done = this.chunks.add(stagedRowText(line, row, nirHashKey));
      if (done.length > 0) full = full === NONE ? done : full.concat(done);
    }
    return full;
  }

  /** What is left, once every record is added. */
  end(): Buffer[] {
    return this.chunks.end();
  }
}

const NONE: Buffer[] = [];

/** One staged row as a line of COPY text (columns as STAGED_COLUMNS). */
function stagedRowText(line: number, row: CheckedRow, nirHashKey: string): string {
  // Canonical values (keywords, digits, a hex hash, a masked NIR) hold nothing COPY escapes: only the name and the
  // message, the file's own text, go through copyText.
  return (
    line + '\t' +
    (row.action ?? NULL) + '\t' +
    (row.clientCase ?? NULL) + '\t' +
    (row.siren ?? NULL) + '\t' +
    (row.siret ?? NULL) + '\t' +
    (row.accountNumber ?? NULL) + '\t' +
    copyNumber(row.amountCents) + '\t' +
    (row.nir === null ? NULL : hashNir(nirHashKey, row.nir)) + '\t' +
    (row.nir === null ? NULL : maskNir(row.nir)) + '\t' +
    copyCodeArray(row.onlineServices) + '\t' +
    copyCodeArray(row.emailServices) + '\t' +
    copyText(row.name) + '\t' +
    copyCodeArray(row.codes) + '\t' +
    copyText(row.message) + '\n'
  );
}

const NULL = '\\N';
