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
