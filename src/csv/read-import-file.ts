import { messageFor } from '../domain/messages.ts';
import type { Column, Delimiter, Encoding, FileCode, LineEnding } from '../domain/types.ts';
import { COLUMN_LABELS, columnForHeader, detectDelimiter } from './header.ts';
import { ByteScanner, type ScanResult } from './scan.ts';
import { CsvSyntaxError, CsvTokenizer } from './csv-tokenizer.ts';
import { latin1 } from './windows-1252.ts';

/** How the upload is written, and what its header says: enough to read its rows and to write files back alike. */
export interface FileMeta extends CsvLayout {
  columns: (Column | null)[];
  warnings: { code: 'UNKNOWN_COLUMN'; column: string; message: string }[];
}

/** A file-level failure (SPEC §2): the batch fails and nothing is applied. */
export class FileError extends Error {
  constructor(
    readonly code: FileCode,
    message: string,
    readonly line: number | null,
  ) {
    super(message);
    this.name = 'FileError';
  }
}

export interface ImportRecord {
  /** Physical line of the record's first line, counted from the file's first byte. */
  line: number;
  /** Cells as read, untrimmed. */
  cells: string[];
}

const MAX_RECORD_BYTES = 64 * 1024;
const REPLACEMENT_CHARACTER = '\uFFFD';

/** How a CSV file is written and where its header stands: enough to read it and to write files back alike. */
export interface CsvLayout {
  encoding: Encoding;
  bom: boolean;
  delimiter: Delimiter;
  /** The file's first line break, for writing exports in the same style. */
  lineEnding: LineEnding;
  headerLine: number;
  headerCells: string[];
}

/**
 * Opens an upload: detects encoding, delimiter and header, then returns the records after the header.
 * `open()` is called once per pass (once more to scan when `scan` is not given) and must yield the file from its
 * first byte. Header-level failures are thrown here; `records` throws FILE_MALFORMED, and FILE_EMPTY when the file
 * has no record. Memory stays flat: bytes are parsed chunk by chunk as the consumer pulls records. `batches`
 * hands the same records over a chunk's worth at a time, for readers of millions of rows; use one or the other.
 */
export function openImportFile(
  open: () => AsyncIterable<Uint8Array>,
  scan?: ScanResult,
): Promise<{ meta: FileMeta; records: AsyncGenerator<ImportRecord>; batches: AsyncGenerator<ImportRecord[]> }> {
  return openCsvFile(open, scan, mapHeader);
}

/**
 * The same reading for any CSV file of ours (import files, registry files): `mapHeader` turns the header's
 * cells into what the caller needs, throwing FileError when the header will not do.
 */
export async function openCsvFile<H extends object>(
  open: () => AsyncIterable<Uint8Array>,
  scan: ScanResult | undefined,
  mapHeader: (cells: string[]) => H,
): Promise<{ meta: CsvLayout & H; records: AsyncGenerator<ImportRecord>; batches: AsyncGenerator<ImportRecord[]> }> {
  const scanned = scan ?? (await scanFile(open));
  if (scanned.hasNul || scanned.binaryKind !== null) {
    throw new FileError('FILE_BINARY', messageFor('FILE_BINARY', { hint: binaryHint(scanned.binaryKind) }), null);
  }
  if (scanned.size === 0) throw new FileError('FILE_EMPTY', messageFor('FILE_EMPTY'), null);

  const text = decodeText(open(), scanned.encoding)[Symbol.asyncIterator]();
  const peek = await peekFirstLines(text);
  const reader = readBatches(peek.texts, text, scanned.encoding, peek.delimiter);
  try {
    let first: ImportRecord[] = [];
    while (first.length === 0) {
      const next = await reader.next();
      if (next.done) throw new FileError('FILE_EMPTY', messageFor('FILE_EMPTY'), null);
      first = next.value;
    }
    const header = first.shift()!;
    const mapped = mapHeader(header.cells);
    const badUtf8 = scanned.bom && !scanned.validUtf8;
    if (badUtf8 && hasReplacement(header.cells)) throw malformedUtf8(header.line);
    const meta = {
      encoding: scanned.encoding,
      bom: scanned.bom,
      delimiter: peek.delimiter,
      lineEnding: peek.lineEnding,
      headerLine: header.line,
      headerCells: header.cells,
      ...mapped,
    };
    const batches = closing(batchesAfterHeader(first, reader, badUtf8), reader);
    return { meta, batches, records: closing(flatten(batches), batches) };
  } catch (error) {
    await reader.return(undefined);
    throw error;
  }
}

async function scanFile(open: () => AsyncIterable<Uint8Array>): Promise<ScanResult> {
  const scanner = new ByteScanner();
  for await (const chunk of open()) scanner.update(chunk);
  return scanner.finish();
}

function binaryHint(kind: ScanResult['binaryKind']): string {
  if (kind === 'utf16') return 'il semble enregistré en « Texte Unicode » (UTF-16) : enregistrez au format CSV UTF-8';
  if (kind === 'xlsx') return 'c’est un classeur Excel (.xlsx) : enregistrez au format CSV';
  return 'il contient des octets nuls : enregistrez au format CSV';
}

function malformedUtf8(line: number | null): FileError {
  return new FileError(
    'FILE_MALFORMED',
    messageFor('FILE_MALFORMED', { line: line ?? undefined, hint: 'caractère invalide dans un fichier marqué UTF-8' }),
    line,
  );
}

function hasReplacement(cells: readonly string[]): boolean {
  for (const cell of cells) if (cell.includes(REPLACEMENT_CHARACTER)) return true;
  return false;
}

/**
 * The records after the header, a decoded chunk's worth at a time (a million rows handed over one by one cost
 * a million promises). A bad record ends the file: the batch holding it is not handed over.
 */
async function* batchesAfterHeader(
  first: ImportRecord[],
  reader: AsyncGenerator<ImportRecord[]>,
  badUtf8: boolean,
): AsyncGenerator<ImportRecord[]> {
  let count = 0;
  const checked = (batch: ImportRecord[]) => {
    if (badUtf8) for (const record of batch) if (hasReplacement(record.cells)) throw malformedUtf8(record.line);
    count += batch.length;
    return batch;
  };
  try {
    if (first.length > 0) yield checked(first);
    for await (const batch of reader) yield checked(batch);
  } finally {
    await reader.return(undefined);
  }
  // An invalid byte is always decoded as U+FFFD in some cell; this is a safety net.
  if (badUtf8) throw malformedUtf8(null);
  if (count === 0) throw noRecordError();
}

/**
 * `outer`, whose return() also ends `inner` (and so the file's source, which may hold a connection): a generator
 * returned before it starts never runs its own finally.
 */
function closing<T>(outer: AsyncGenerator<T>, inner: AsyncGenerator<unknown>): AsyncGenerator<T> {
  const end = outer.return.bind(outer);
  outer.return = async (value) => {
    try {
      return await end(value);
    } finally {
      await inner.return(undefined);
    }
  };
  return outer;
}

async function* flatten(batches: AsyncGenerator<ImportRecord[]>): AsyncGenerator<ImportRecord> {
  try {
    for await (const batch of batches) yield* batch;
  } finally {
    await batches.return(undefined);
  }
}

function mapHeader(cells: readonly string[]): { columns: (Column | null)[]; warnings: FileMeta['warnings'] } {
  const columns: (Column | null)[] = [];
  const warnings: FileMeta['warnings'] = [];
  const headerOf = new Map<Column, string>();
  for (const cell of cells) {
    const name = cell.trim();
    if (name === '') {
      columns.push(null);
      continue;
    }
    const column = columnForHeader(name);
    if (column === null) {
      columns.push(null);
      warnings.push({ code: 'UNKNOWN_COLUMN', column: name, message: `Colonne « ${name} » inconnue : ignorée` });
      continue;
    }
    const earlier = headerOf.get(column);
    if (earlier !== undefined) {
      const detail = `« ${earlier} » et « ${name} » désignent toutes deux la colonne ${COLUMN_LABELS[column]}`;
      throw new FileError('FILE_DUPLICATE_COLUMN', messageFor('FILE_DUPLICATE_COLUMN', { column: detail }), null);
    }
    headerOf.set(column, name);
    columns.push(column);
  }
  const missing: string[] = [];
  if (!headerOf.has('action')) missing.push('action');
  if (!headerOf.has('siren') && !headerOf.has('siret') && !headerOf.has('account_number')) {
    missing.push('SIREN, SIRET ou numéro de compte (au moins une des trois)');
  }
  if (missing.length > 0) {
    throw new FileError('FILE_MISSING_COLUMN', messageFor('FILE_MISSING_COLUMN', { column: missing.join(' ; ') }), null);
  }
  return { columns, warnings };
}

/** Bytes decoded at a time: a 1 MB stored chunk's records kept alive together would outlive young-generation GCs. */
const DECODE_BYTES = 64 * 1024;

/** The file as text, chunk by chunk; TextDecoder drops a UTF-8 BOM and keeps a character split across chunks whole. */
async function* decodeText(bytes: AsyncIterable<Uint8Array>, encoding: Encoding): AsyncGenerator<string> {
  const decoder = encoding === 'windows-1252' ? null : new TextDecoder('utf-8');
  for await (const chunk of bytes) {
    for (let start = 0; start < chunk.length; start += DECODE_BYTES) {
      const piece = chunk.subarray(start, start + DECODE_BYTES);
      const text = decoder === null ? latin1(piece) : decoder.decode(piece, { stream: true });
      if (text.length > 0) yield text;
    }
  }
  const rest = decoder?.decode() ?? '';
  if (rest.length > 0) yield rest;
}

interface Peek {
  /** The text read so far, replayed to the tokenizer. */
  texts: string[];
  delimiter: Delimiter;
  lineEnding: LineEnding;
}

const LINE_BREAK = /\r\n|\n|\r/;
const BLANK_BEFORE_HEADER = /^[\s;,]*$/;

/**
 * Reads just enough to see the first line break and the header line (the first non-blank one) and detect the
 * delimiter from it. Before the delimiter is known, a line of spaces, `;`, `,` and TAB is blank.
 */
async function peekFirstLines(source: AsyncIterator<string>): Promise<Peek> {
  const texts: string[] = [];
  let text = '';
  for (;;) {
    const next = await source.next();
    const ended = next.done === true;
    if (!ended) {
      texts.push(next.value);
      text += next.value;
    }
    const found = findHeaderLine(text, ended || text.length > 2 * MAX_RECORD_BYTES);
    if (found !== null) return { texts, ...found };
  }
}

function findHeaderLine(text: string, complete: boolean): { delimiter: Delimiter; lineEnding: LineEnding } | null {
  const firstBreak = LINE_BREAK.exec(text);
  // A CR ending the text may be the first half of a CRLF: wait for the next character.
  if (!complete && (firstBreak === null || (firstBreak[0] === '\r' && firstBreak.index === text.length - 1))) return null;
  const lineEnding = (firstBreak?.[0] ?? '\r\n') as LineEnding;
  let rest = text;
  for (;;) {
    const lineBreak = LINE_BREAK.exec(rest);
    const line = lineBreak === null ? rest : rest.slice(0, lineBreak.index);
    if (!BLANK_BEFORE_HEADER.test(line)) {
      if (lineBreak === null && !complete) return null;
      return { delimiter: detectDelimiter(line), lineEnding };
    }
    if (lineBreak === null) return complete ? { delimiter: ';', lineEnding } : null;
    rest = rest.slice(lineBreak.index + lineBreak[0].length);
  }
}

function malformed(error: CsvSyntaxError): FileError {
  const hint =
    error.reason === 'unclosed_quote'
      ? 'guillemet ouvert jamais refermé'
      : 'enregistrement de plus de 64 Kio, sans doute un guillemet jamais refermé';
  return new FileError('FILE_MALFORMED', messageFor('FILE_MALFORMED', { line: error.line, hint }), error.line);
}

/**
 * Every non-blank record of the file, header included, with the physical line it starts on, in batches: a
 * decoded text chunk's records at a time, so memory holds one chunk and its records, whatever the file's size.
 */
async function* readBatches(
  peeked: string[],
  source: AsyncIterator<string>,
  encoding: Encoding,
  delimiter: Delimiter,
  part?: FilePart,
): AsyncGenerator<ImportRecord[]> {
  const tokenizer = new CsvTokenizer({
    delimiter,
    maxRecordBytes: MAX_RECORD_BYTES,
    windows1252: encoding === 'windows-1252',
    firstLine: part?.firstLine,
  });
  let batch: ImportRecord[] = [];
  const onRecord = (line: number, cells: string[]): void => {
    if (!isBlankRecord(cells)) batch.push({ line, cells });
  };
  try {
    for (;;) {
      let text = peeked.shift();
      if (text === undefined) {
        const next = await source.next();
        if (next.done) break;
        text = next.value;
      }
      tokenizer.write(text, onRecord);
      if (batch.length > 0) {
        const ready = batch;
        batch = [];
        yield ready;
      }
    }
    if (part && !part.last) {
      part.pending = tokenizer.pending;
      part.nextLine = tokenizer.nextLine;
    } else {
      tokenizer.end(onRecord);
    }
    if (batch.length > 0) yield batch;
  } catch (error) {
    throw error instanceof CsvSyntaxError ? malformed(error) : error;
  } finally {
    await source.return?.();
  }
}

/**
 * A part of a file read on its own. `last` may be set while it is read, before its bytes end. A part that is not
 * the file's last is not ended: `pending` then tells whether its text stopped inside a record (it was not cut
 * between two, and its records cannot be trusted), `nextLine` the line after its last one.
 */
export interface FilePart {
  firstLine: number;
  last: boolean;
  pending: boolean;
  nextLine: number;
}

/**
 * A part of a file, cut just after a line break, read on its own (by a reading thread): its non-blank records
 * after the header line, with their physical lines counted from `part.firstLine`.
 */
export async function* readFilePart(
  bytes: AsyncIterable<Uint8Array>,
  layout: { encoding: Encoding; delimiter: Delimiter; headerLine: number },
  part: FilePart,
): AsyncGenerator<ImportRecord[]> {
  const text = decodeText(bytes, layout.encoding)[Symbol.asyncIterator]();
  for await (const batch of readBatches([], text, layout.encoding, layout.delimiter, part)) {
    const records = batch[0].line > layout.headerLine ? batch : batch.filter((r) => r.line > layout.headerLine);
    if (records.length > 0) yield records;
  }
}

/** The file has no record after its header. */
export function noRecordError(): FileError {
  return new FileError('FILE_EMPTY', messageFor('FILE_EMPTY', { hint: 'l’en-tête n’est suivi d’aucune ligne' }), null);
}

/** Empty, or only spaces (the delimiters are gone once split into cells). */
function isBlankRecord(cells: readonly string[]): boolean {
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (cell.length !== 0 && cell.trim() !== '') return false;
  }
  return true;
}
