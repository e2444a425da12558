/** Encoding of values for PostgreSQL's COPY … FROM STDIN text format. */

const NULL = '\\N';

export function copyText(value: string | null): string {
  if (value === null) return NULL;
  let needs = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 92 || c === 9 || c === 10 || c === 13) {
      needs = true;
      break;
    }
  }
  if (!needs) return value;
  return value.replace(/[\\\t\n\r]/g, (ch) => (ch === '\\' ? '\\\\' : ch === '\t' ? '\\t' : ch === '\n' ? '\\n' : '\\r'));
}

export function copyNumber(value: number | null): string {
  return value === null ? NULL : String(value);
}

/** A text[] of plain codes (upper-case letters, digits and underscores: nothing to quote). */
export function copyCodeArray(values: readonly string[] | null): string {
  return values === null ? NULL : `{${values.join(',')}}`;
}

const COPY_CHUNK_BYTES = 256 * 1024;

/**
 * Rows of COPY text gathered into ~256 KB buffers for the COPY stream: UTF-8 encoded once, row by row, instead
 * of building long strings that must be flattened and encoded again.
 */
export class CopyChunks {
  private buffer = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
  private used = 0;

  /** Adds a row; returns the buffers now full, in order (most calls: none). */
  add(row: string): Buffer[] {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    if (this.used + row.length * 3 <= COPY_CHUNK_BYTES) {
      this.used += this.buffer.write(row, this.used);
      return NONE;
    }
    const full = this.take();
    if (row.length * 3 > COPY_CHUNK_BYTES) full.push(Buffer.from(row));
    else this.used += this.buffer.write(row, this.used);
    return full;
  }

  /** What is left, once every row is added. */
  end(): Buffer[] {
    return this.take();
  }

  private take(): Buffer[] {
    if (this.used === 0) return [];
    const full = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
    this.used = 0;
    return [full];
  }
}
const NONE: Buffer[] = [];
