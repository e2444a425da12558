import { describe, expect, it } from 'vitest';
import { openImportFile } from '../../src/csv/read-import-file.ts';
import { encodeWindows1252 } from '../../src/csv/windows-1252.ts';
import { columnForHeader, normalizeHeader } from '../../src/csv/header.ts';
import { fileErrorOf, opener, readAll } from './helpers.ts';

const HEADER = 'action;siren;account_number';

describe('openImportFile: line numbers', () => {
  it.each([
    ['CRLF', `${HEADER}\r\na;1;2\r\nb;3;4\r\n`, '\r\n', [2, 3]],
    ['LF', `${HEADER}\na;1;2\nb;3;4`, '\n', [2, 3]],
    ['CR', `${HEADER}\ra;1;2\rb;3;4\r`, '\r', [2, 3]],
    ['mixed', `${HEADER}\r\na;1;2\nb;3;4\rc;5;6\r\n`, '\r\n', [2, 3, 4]],
    ['blank lines counted, not records', `\n  \n${HEADER}\n\na;1;2\n;;\n ; ;\t\nb;3;4\n\n`, '\n', [5, 8]],
    ['quoted newlines: the record carries its first line', `${HEADER}\na;"1\r\n2\r3\n4";5\nb;3;4\n`, '\n', [2, 6]],
  ])('%s', async (_label, text, lineEnding, lines) => {
    for (const chunkSize of [1, 3, 64 * 1024]) {
      const { meta, rows } = await readAll(text, chunkSize);
      expect(meta.lineEnding).toBe(lineEnding);
      expect(rows.map((row) => row.line)).toEqual(lines);
    }
  });

  it('gives the header line', async () => {
    const { meta } = await readAll(`\r\n;;\r\n${HEADER}\r\na;1;2\r\n`);
    expect(meta.headerLine).toBe(3);
    expect(meta.lineEnding).toBe('\r\n');
  });

  it('returns cells as read, untrimmed, with a quote inside an unquoted field kept', async () => {
    const { rows } = await readAll(`${HEADER};name\n add ; 1 ;"2";SARL "LE PIN"\n`);
    expect(rows[0].cells).toEqual([' add ', ' 1 ', '2', 'SARL "LE PIN"']);
  });
});

describe('openImportFile: encoding and delimiter', () => {
  it('reads Windows-1252 as the WHATWG decoder does (€ is 0x80)', async () => {
    const bytes = encodeWindows1252('action;siren;nom;montant\r\najout;1;Hélène Œuvre;1 234,56 €\r\n');
    expect(bytes.includes(0x80)).toBe(true);
    const { meta, rows } = await readAll(bytes, 5);
    expect(meta.encoding).toBe('windows-1252');
    expect(rows[0].cells).toEqual(['ajout', '1', 'Hélène Œuvre', '1 234,56 €']);
  });

  it('reads every Windows-1252 character 0x80–0x9F wherever it falls: any cell, quoted, header, across chunks', async () => {
    const c1 = '€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ\u0081\u008d\u008f\u0090\u009d';
    const text =
      `action;nom ’;siren\r\n` +
      `ajout;L’Œuvre;1\r\n` +
      `ajout;plain;2\r\n` +
      `${c1};"a ‘quoted’\r\nname";3\r\n` +
      `ajout;"";€\r\n` +
      `ajout;plain again;4\r\n` +
      `ajout;Ÿ;5`;
    const bytes = encodeWindows1252(text);
    for (const chunkSize of [1, 2, 7, 64 * 1024]) {
      const { meta, rows } = await readAll(bytes, chunkSize);
      expect(meta.encoding).toBe('windows-1252');
      expect(meta.headerCells).toEqual(['action', 'nom ’', 'siren']);
      expect(rows.map((r) => r.cells)).toEqual([
        ['ajout', 'L’Œuvre', '1'],
        ['ajout', 'plain', '2'],
        [c1, 'a ‘quoted’\r\nname', '3'],
        ['ajout', '', '€'],
        ['ajout', 'plain again', '4'],
        ['ajout', 'Ÿ', '5'],
      ]);
    }
  });

  it('reads UTF-8 with a BOM, characters split across chunks', async () => {
    const { meta, rows } = await readAll('\ufeffaction,siren\najout,Hélène €\n', 1);
    expect(meta).toMatchObject({ encoding: 'utf-8', bom: true, delimiter: ',', headerCells: ['action', 'siren'] });
    expect(rows[0].cells).toEqual(['ajout', 'Hélène €']);
  });

  it('reads UTF-8 without BOM', async () => {
    const { meta } = await readAll('action;siren\najout;é\n');
    expect(meta).toMatchObject({ encoding: 'utf-8', bom: false });
  });

  it('fails FILE_MALFORMED on an invalid byte after a UTF-8 BOM, at its line', async () => {
    const bytes = Buffer.concat([Buffer.from('\ufeffaction;siren\nadd;1\nadd;', 'utf8'), Buffer.from([0xe9]), Buffer.from(';x\n')]);
    expect(await fileErrorOf(bytes)).toMatchObject({ code: 'FILE_MALFORMED', line: 3 });
  });

  it.each([
    ['semicolon', 'action;siren;compte', ';'],
    ['comma', 'action,siren,compte', ','],
    ['tab', 'action\tsiren\tcompte', '\t'],
    ['commas inside quotes do not count', 'action;"Nom, prénom, ville, pays";siren', ';'],
  ])('detects the %s delimiter from the header', async (_label, header, delimiter) => {
    const { meta } = await readAll(`${header}\nadd${delimiter}1${delimiter}2\n`);
    expect(meta.delimiter).toBe(delimiter);
  });
});

describe('openImportFile: header', () => {
  it.each([
    ['action', 'action'], ['Opération', 'action'], ['OPERATION', 'action'], ['Type action', 'action'], ['type_action', 'action'],
    ['Cas', 'case'], ['case', 'case'], ['Type client', 'case'], ['Catégorie', 'case'], ['categorie', 'case'],
    ['SIREN', 'siren'], ['N° SIREN', 'siren'], ['nº siren', 'siren'], ['No SIREN', 'siren'], ['No.SIREN', 'siren'], ['n°siren', 'siren'],
    ['Siret', 'siret'], ['N° SIRET', 'siret'],
    ['account number', 'account_number'], ['account_number', 'account_number'], ['Numéro de compte', 'account_number'], ['numero compte', 'account_number'],
    ['N° compte', 'account_number'], ['Compte', 'account_number'], ['no compte', 'account_number'],
    ['amount', 'amount'], ['Montant', 'amount'],
    ['NIR', 'nir'], ['Numéro de sécurité sociale', 'nir'], ['numero-securite-sociale', 'nir'], ['NSS', 'nir'],
    ['online services', 'online_services'], ['Services en ligne', 'online_services'], ['services', 'online_services'],
    ['email services', 'email_services'], ['Services courriel', 'email_services'], ['Courriels', 'email_services'],
    ['name', 'name'], ['Nom', 'name'], ['Raison sociale', 'name'], ['Dénomination', 'name'], ["raison.sociale", 'name'],
  ])('%j names %s', (header, column) => {
    expect(columnForHeader(header)).toBe(column);
  });

  it.each(['Nombre', 'notes', 'SIREN2', 'adresse'])('%j is unknown', (header) => {
    expect(columnForHeader(header)).toBeNull();
  });

  it('normalises case, accents, spaces and punctuation', () => {
    expect(normalizeHeader("  N° d'Opération - Client_ ")).toBe('doperationclient');
  });

  it('maps columns, ignores empty header cells silently and warns about unknown ones', async () => {
    const { meta, rows } = await readAll('Action;Remarques;N° SIREN;;\nadd;x;1;;\n');
    expect(meta.columns).toEqual(['action', null, 'siren', null, null]);
    expect(meta.headerCells).toEqual(['Action', 'Remarques', 'N° SIREN', '', '']);
    expect(meta.warnings).toEqual([{ code: 'UNKNOWN_COLUMN', column: 'Remarques', message: 'Colonne « Remarques » inconnue : ignorée' }]);
    expect(rows[0].cells).toHaveLength(5);
  });
});

describe('openImportFile: file codes', () => {
  it.each([
    ['FILE_BINARY (UTF-16)', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('action;siren\r\nadd;1\r\n', 'utf16le')]), 'FILE_BINARY', null, 'UTF-8'],
    ['FILE_BINARY (xlsx)', Buffer.from('PK\x03\x04\x00\x00rest', 'latin1'), 'FILE_BINARY', null, '.xlsx'],
    ['FILE_BINARY (NUL)', Buffer.from('action;siren\nadd;\x00\n'), 'FILE_BINARY', null, 'CSV'],
    ['FILE_EMPTY (empty file)', '', 'FILE_EMPTY', null, 'vide'],
    ['FILE_EMPTY (blank lines only)', '\r\n ;; \r\n\r\n', 'FILE_EMPTY', null, 'vide'],
    ['FILE_DUPLICATE_COLUMN', 'action;N° compte;Numéro de compte\nadd;1;1\n', 'FILE_DUPLICATE_COLUMN', null, '« N° compte » et « Numéro de compte »'],
    ['FILE_DUPLICATE_COLUMN before FILE_MISSING_COLUMN', 'nom;name\nx;y\n', 'FILE_DUPLICATE_COLUMN', null, 'nom'],
    ['FILE_MISSING_COLUMN (action)', 'cas;siren\n1;2\n', 'FILE_MISSING_COLUMN', null, 'action'],
    ['FILE_MISSING_COLUMN (no key column)', 'action;montant\nadd;2\n', 'FILE_MISSING_COLUMN', null, 'SIREN, SIRET ou numéro de compte'],
    ['FILE_MISSING_COLUMN before FILE_MALFORMED', 'cas;siren\n1;"2\n', 'FILE_MISSING_COLUMN', null, 'action'],
    ['FILE_MALFORMED (unclosed quote)', `${HEADER}\na;1;2\n\nb;"3;4\nc;5;6\n`, 'FILE_MALFORMED', 4, 'guillemet'],
    ['FILE_MALFORMED (record over 64 KiB)', `${HEADER}\na;1;2\nb;${'9'.repeat(70_000)};4\n`, 'FILE_MALFORMED', 3, '64 Kio'],
    ['FILE_MALFORMED before FILE_EMPTY', `${HEADER}\n"\n`, 'FILE_MALFORMED', 2, 'guillemet'],
    ['FILE_EMPTY (header, no record)', `${HEADER}\r\n`, 'FILE_EMPTY', null, 'vide'],
    ['FILE_EMPTY (header then blank lines)', `${HEADER}\r\n;;\r\n\r\n`, 'FILE_EMPTY', null, 'vide'],
  ])('%s', async (_label, bytes, code, line, inMessage) => {
    const error = await fileErrorOf(bytes, 4096);
    expect(error).toMatchObject({ code, line });
    expect(error.message).toContain(inMessage);
  });

  it('throws header-level codes from openImportFile itself', async () => {
    await expect(openImportFile(opener('cas;siren\n1;2\n'))).rejects.toMatchObject({ code: 'FILE_MISSING_COLUMN' });
  });

  it('uses a scan given instead of scanning again', async () => {
    let opened = 0;
    const open = () => {
      opened++;
      return opener(`${HEADER}\na;1;2\n`)();
    };
    const { ByteScanner } = await import('../../src/csv/scan.ts');
    const scanner = new ByteScanner();
    scanner.update(Buffer.from(`${HEADER}\na;1;2\n`));
    const { records } = await openImportFile(open, scanner.finish());
    for await (const _ of records) void _;
    expect(opened).toBe(1);
  });
});

describe('openImportFile: the source is closed however the reading ends', () => {
  /** An `open()` over `text` in 5-byte chunks that counts its readings still open (the scan's pass included). */
  function tracked(text: string) {
    const state = { open: 0 };
    const open = async function* () {
      state.open++;
      try {
        yield* opener(text, 5)();
      } finally {
        state.open--;
      }
    };
    return { state, open };
  }
  const text = `${HEADER}\n${'a;1;2\n'.repeat(200)}`;

  it.each([
    ['batches returned before they start', async (r: Awaited<ReturnType<typeof openImportFile>>) => void (await r.batches.return(undefined))],
    ['records returned before they start', async (r: Awaited<ReturnType<typeof openImportFile>>) => void (await r.records.return(undefined))],
    ['records left after the first', async (r: Awaited<ReturnType<typeof openImportFile>>) => {
      for await (const _ of r.records) break;
    }],
    ['read to the end', async (r: Awaited<ReturnType<typeof openImportFile>>) => {
      for await (const _ of r.records) void _;
    }],
  ])('%s', async (_label, end) => {
    const { state, open } = tracked(text);
    const read = await openImportFile(open);
    expect(state.open).toBe(1);
    await end(read);
    expect(state.open).toBe(0);
  });
});
