import { Parser } from 'csv-parse';
import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, CsvTokenizer } from '../../src/csv/csv-tokenizer.ts';

function tokenize(text: string, chunkSize: number, delimiter = ';') {
  const tokenizer = new CsvTokenizer({ delimiter, maxRecordBytes: 64 * 1024, windows1252: false });
  const records: [number, string[]][] = [];
  const onRecord = (line: number, cells: string[]) => records.push([line, cells]);
  for (let i = 0; i < text.length; i += chunkSize) tokenizer.write(text.slice(i, i + chunkSize), onRecord);
  tokenizer.end(onRecord);
  return records;
}

/** csv-parse with the options the tokenizer stands in for; its start lines computed from `info.lines`. */
function csvParse(text: string, delimiter = ';') {
  const api = (new Parser({ delimiter, record_delimiter: ['\r\n', '\n', '\r'], relax_quotes: true, relax_column_count: true, bom: false }) as unknown as {
    api: { parse(b: Buffer | undefined, end: boolean, push: (r: string[]) => void, close: () => void): Error | undefined; info: { lines: number } };
  }).api;
  const records: [number, string[]][] = [];
  let previousEnd = 0;
  const push = (cells: string[]) => {
    records.push([previousEnd + 1, cells]);
    previousEnd = api.info.lines;
  };
  const error = api.parse(Buffer.from(text), false, push, () => {}) ?? api.parse(undefined, true, push, () => {});
  if (error) throw error;
  return records;
}

describe('CsvTokenizer', () => {
  it.each([
    ['CRLF', 'a;b\r\nc;d\r\n', [[1, ['a', 'b']], [2, ['c', 'd']]]],
    ['LF, no final break', 'a;b\nc;d', [[1, ['a', 'b']], [2, ['c', 'd']]]],
    ['CR', 'a;b\rc;d\r', [[1, ['a', 'b']], [2, ['c', 'd']]]],
    ['mixed', 'a\r\nb\nc\rd\n\re', [[1, ['a']], [2, ['b']], [3, ['c']], [4, ['d']], [5, ['']], [6, ['e']]]],
    ['blank lines are records', 'a\n\n;;\nb', [[1, ['a']], [2, ['']], [3, ['', '', '']], [4, ['b']]]],
    ['quoted newlines count', '"x\r\ny\rz";1\nnext', [[1, ['x\r\ny\rz', '1']], [4, ['next']]]],
    ['escaped quotes', '"say ""hi""";2', [[1, ['say "hi"', '2']]]],
    ['quote inside an unquoted field', 'SARL "LE PIN";x', [[1, ['SARL "LE PIN"', 'x']]]],
    ['text after a closing quote', '"LE PIN" SARL;x', [[1, ['"LE PIN" SARL', 'x']]]],
    ['trailing delimiter', 'a;\n', [[1, ['a', '']]]],
    ['empty quoted', '"";""', [[1, ['', '']]]],
    ['spaces kept', ' a ; b ', [[1, [' a ', ' b ']]]],
  ] as const)('%s', (_label, text, expected) => {
    for (const chunkSize of [1, 2, 3, 1000]) expect(tokenize(text, chunkSize)).toEqual(expected);
  });

  it('throws unclosed_quote with the first line of the record', () => {
    expect(() => tokenize('a\nb\n"c\nd\ne', 2)).toThrowError(expect.objectContaining({ reason: 'unclosed_quote', line: 3 }) as Error);
  });

  it('throws record_too_large past the limit, counting UTF-8 bytes', () => {
    const tokenizer = new CsvTokenizer({ delimiter: ';', maxRecordBytes: 10, windows1252: false });
    expect(() => tokenizer.write('éééééé\n', () => {})).toThrow(CsvSyntaxError);
    const singleByte = new CsvTokenizer({ delimiter: ';', maxRecordBytes: 10, windows1252: true });
    expect(() => singleByte.write('éééééé\n', () => {})).not.toThrow();
  });

  it('bounds an unfinished record', () => {
    const tokenizer = new CsvTokenizer({ delimiter: ';', maxRecordBytes: 100, windows1252: true });
    tokenizer.write('a\n', () => {});
    expect(() => {
      for (let i = 0; i < 10; i++) tokenizer.write(`"${'x'.repeat(50)}`, () => {});
    }).toThrowError(expect.objectContaining({ reason: 'record_too_large', line: 2 }) as Error);
  });

  it('counts a CRLF inside quotes as one line (csv-parse counts two)', () => {
    expect(tokenize('"a\r\nb";1\nz', 1)).toEqual([[1, ['a\r\nb', '1']], [3, ['z']]]);
    expect(csvParse('"a\r\nb";1\nz')[1][0]).toBe(4);
  });

  it('agrees with csv-parse on random inputs: cells always, start lines when there is no CRLF', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const alphabet = ['a', 'b', ' ', ';', ';', '"', '"', '\n', '\r', '\r\n', 'é', '€', 'x'];
    for (let run = 0; run < 3000; run++) {
      let text = '';
      const length = Math.floor(random() * 40);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      let expected: [number, string[]][] | 'error';
      try {
        expected = csvParse(text);
      } catch {
        expected = 'error';
      }
      let actual: [number, string[]][] | 'error';
      try {
        actual = tokenize(text, 1 + (run % 5));
      } catch {
        actual = 'error';
      }
      const comparable = (records: typeof actual) =>
        records === 'error' || !text.includes('\r\n') ? records : records.map(([, cells]) => cells);
      expect(comparable(actual), JSON.stringify(text)).toEqual(comparable(expected));
    }
  });
});
