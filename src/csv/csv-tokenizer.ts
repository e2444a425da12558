/**
 * A CSV tokenizer for decoded text, with the semantics this project asked of csv-parse (relax_quotes,
 * relax_column_count, record delimiters CRLF/LF/CR mixed, `"` quote and escape, no trimming) and the physical line
 * each record starts on. Hand-written because csv-parse, byte by byte, read about 60,000 rows/s here against a
 * target of 150,000 for reading and checking together; test/csv/csv-tokenizer.test.ts holds it to csv-parse's output.
 *
 * Rules: a field that starts with `"` is quoted (`""` inside is one `"`, line breaks are data); a closing quote not
 * followed by a delimiter, a line break or the end makes the field literal from its opening quote on (`"LE PIN" SARL`);
 * a quote inside an unquoted field is an ordinary character (`SARL "LE PIN"`).
 */

import { indexOfC1, windows1252Cell } from './windows-1252.ts';

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

export type CsvSyntaxReason = 'unclosed_quote' | 'record_too_large';

export class CsvSyntaxError extends Error {
  constructor(
    readonly reason: CsvSyntaxReason,
    /** The first line of the record that could not be read. */
    readonly line: number,
  ) {
    super(reason === 'unclosed_quote' ? `quoted field never closed, line ${line}` : `record over the size limit, line ${line}`);
    this.name = 'CsvSyntaxError';
  }
}

export interface CsvTokenizerOptions {
  delimiter: string;
  /** Limit on a record's raw size (line break excluded), in bytes of the file. */
  maxRecordBytes: number;
  /**
   * True when the text is Windows-1252 read as Latin-1 (windows-1252.ts, latin1): one character is one byte of the
   * file (else sizes are measured in UTF-8), and the cells of a record holding one of the characters U+0080–U+009F
   * get them turned into Windows-1252's (€, ’, œ…). Files are tokenized one byte a character instead of two (a
   * single ’ in a chunk made it all two-byte: ~15 % slower reading and checking).
   */
  windows1252: boolean;
  /** The physical line the text starts on (1: the file's start; more for a part of a file read on its own). */
  firstLine?: number;
}

export class CsvTokenizer {
  private readonly delimiter: number;
  private carry = '';
  /** The physical line the next record starts on. */
  private line: number;
  // Out-values of parseRecord, kept as fields so that parsing a record allocates only its cells.
  private recordEnd = 0;
  private recordRawEnd = 0;
  private recordBreaks = 0;

  constructor(private readonly options: CsvTokenizerOptions) {
    if (options.delimiter.length !== 1) throw new Error('delimiter must be one character');
    this.delimiter = options.delimiter.charCodeAt(0);
    this.line = options.firstLine ?? 1;
  }

  /** The physical line the next record starts on: after `end`, the line after the text's last one. */
  get nextLine(): number {
    return this.line;
  }

  /** True when the text written so far ends inside a record (kept for the next write). */
  get pending(): boolean {
    return this.carry.length > 0;
  }

  /** Feeds the next piece of text; `onRecord` receives every record it completes, blank lines included. */
  write(text: string, onRecord: (line: number, cells: string[]) => void): void {
    this.run(this.carry.length === 0 ? text : this.carry + text, false, onRecord);
  }

  /** Ends the input: the last record may lack its line break; an open quote is an error. */
  end(onRecord: (line: number, cells: string[]) => void): void {
    const text = this.carry;
    this.carry = '';
    if (text.length > 0) this.run(text, true, onRecord);
  }

  private run(text: string, final: boolean, onRecord: (line: number, cells: string[]) => void): void {
    const length = text.length;
    let position = 0;
    let c1 = this.options.windows1252 ? indexOfC1(text, 0) : -1;
    while (position < length) {
      const cells = this.parseRecord(text, position, final);
      if (cells === null) {
        if (final) throw new CsvSyntaxError('unclosed_quote', this.line);
        break;
      }
      if (this.isTooLarge(text, position, this.recordRawEnd)) throw new CsvSyntaxError('record_too_large', this.line);
      if (c1 !== -1 && c1 < this.recordEnd) {
        for (let i = 0; i < cells.length; i++) cells[i] = windows1252Cell(cells[i]);
        c1 = indexOfC1(text, this.recordEnd);
      }
      onRecord(this.line, cells);
      this.line += this.recordBreaks;
      position = this.recordEnd;
    }
    this.carry = position < length ? text.slice(position) : '';
    // An incomplete record is kept whole until its end arrives: bound it, or an open quote would hold the file.
    if (this.isTooLarge(this.carry, 0, this.carry.length)) throw new CsvSyntaxError('record_too_large', this.line);
  }

  private isTooLarge(text: string, start: number, end: number): boolean {
    const chars = end - start;
    const limit = this.options.maxRecordBytes;
    if (this.options.windows1252 || chars * 3 <= limit) return chars > limit;
    return chars > limit || Buffer.byteLength(text.slice(start, end), 'utf8') > limit;
  }

  /** The cells of the record at `start`, or null when the text ends before the record does. */
  private parseRecord(text: string, start: number, final: boolean): string[] | null {
    const length = text.length;
    const delimiter = this.delimiter;
    const cells: string[] = [];
    let breaks = 0;
    let i = start;
    for (;;) {
      let end: number; // index just after the field
      if (i < length && text.charCodeAt(i) === QUOTE) {
        let segment = i + 1;
        let from = i + 1;
        let value = '';
        for (;;) {
          const quote = text.indexOf('"', from);
          if (quote === -1 || (quote + 1 >= length && !final)) return null;
          const next = quote + 1 < length ? text.charCodeAt(quote + 1) : -1;
          if (next === QUOTE) {
            value += text.slice(segment, quote + 1);
            from = quote + 2;
            segment = from;
            continue;
          }
          value += text.slice(segment, quote);
          breaks += countLineBreaks(text, i + 1, quote);
          if (next === -1 || next === delimiter || next === CR || next === LF) {
            end = quote + 1;
          } else {
            // Text after the closing quote: the field is literal from its opening quote on.
            end = quote + 1;
            while (end < length) {
              const code = text.charCodeAt(end);
              if (code === delimiter || code === CR || code === LF) break;
              end++;
            }
            if (end === length && !final) return null;
            value = `"${value}"${text.slice(quote + 1, end)}`;
          }
          break;
        }
        cells.push(value);
      } else {
        end = i;
        while (end < length) {
          const code = text.charCodeAt(end);
          if (code === delimiter || code === CR || code === LF) break;
          end++;
        }
        if (end === length && !final) return null;
        cells.push(text.slice(i, end));
      }

      if (end >= length) {
        this.recordRawEnd = length;
        this.recordEnd = length;
        this.recordBreaks = breaks;
        return cells;
      }
      const code = text.charCodeAt(end);
      if (code === delimiter) {
        i = end + 1;
        if (i >= length && !final) return null;
        continue;
      }
      this.recordRawEnd = end;
      if (code === CR) {
        if (end + 1 >= length && !final) return null; // a CR ending the text may be the first half of a CRLF
        this.recordEnd = end + 1 < length && text.charCodeAt(end + 1) === LF ? end + 2 : end + 1;
      } else {
        this.recordEnd = end + 1;
      }
      this.recordBreaks = breaks + 1;
      return cells;
    }
  }
}

/** CRLF, LF and CR each count as one line break. */
function countLineBreaks(text: string, start: number, end: number): number {
  let breaks = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === LF) breaks++;
    else if (code === CR) {
      breaks++;
      if (i + 1 < end && text.charCodeAt(i + 1) === LF) i++;
    }
  }
  return breaks;
}
