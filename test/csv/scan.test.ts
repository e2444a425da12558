import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ByteScanner } from '../../src/csv/scan.ts';

function scanIn(bytes: Uint8Array, chunkSize: number) {
  const scanner = new ByteScanner();
  for (let i = 0; i < bytes.length; i += chunkSize) scanner.update(bytes.subarray(i, i + chunkSize));
  return scanner.finish();
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

describe('ByteScanner', () => {
  it.each([1, 2, 3, 5, 1024])('gives the same result whatever the chunk size (%i)', (chunkSize) => {
    const bytes = Buffer.from('action;nom\r\najout;Hélène € 😀 中\r\n', 'utf8');
    expect(scanIn(bytes, chunkSize)).toEqual({
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bom: false,
      validUtf8: true,
      encoding: 'utf-8',
      hasNul: false,
      binaryKind: null,
    });
  });

  it.each([
    ['pure ASCII', Buffer.from('action;siren\n'), { encoding: 'utf-8', validUtf8: true, bom: false }],
    ['UTF-8 with BOM', Buffer.concat([BOM, Buffer.from('nom\nHélène\n')]), { encoding: 'utf-8', validUtf8: true, bom: true }],
    ['Windows-1252 (é = E9, € = 80)', Buffer.from([0x6e, 0x6f, 0x6d, 0x0a, 0xe9, 0x80, 0x0a]), { encoding: 'windows-1252', validUtf8: false, bom: false }],
    ['BOM then an invalid byte: still UTF-8', Buffer.concat([BOM, Buffer.from([0x61, 0xe9, 0x0a])]), { encoding: 'utf-8', validUtf8: false, bom: true }],
    ['truncated sequence at the end', Buffer.from([0x61, 0xc3]), { encoding: 'windows-1252', validUtf8: false }],
    ['overlong encoding', Buffer.from([0xc0, 0xaf]), { encoding: 'windows-1252', validUtf8: false }],
    ['UTF-16 surrogate encoded in UTF-8', Buffer.from([0xed, 0xa0, 0x80]), { encoding: 'windows-1252', validUtf8: false }],
    ['empty file', Buffer.alloc(0), { encoding: 'utf-8', validUtf8: true, size: 0 }],
  ])('%s', (_label, bytes, expected) => {
    for (const chunkSize of [1, 2, 4096]) expect(scanIn(bytes, chunkSize)).toMatchObject(expected);
  });

  it.each([
    ['UTF-16 LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('action;siren\r\n', 'utf16le')]), 'utf16', true],
    ['UTF-16 BE with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('action;siren\r\n', 'utf16le').swap16()]), 'utf16', true],
    ['UTF-16 LE without BOM', Buffer.from('action;siren;compte\r\n', 'utf16le'), 'utf16', true],
    ['an .xlsx workbook', Buffer.concat([Buffer.from('PK\x03\x04\x14\x00\x06\x00', 'latin1'), Buffer.alloc(40, 7)]), 'xlsx', true],
    ['text with one NUL', Buffer.from('action;siren\nadd;\x00\n'), 'other', true],
  ])('recognises %s as binary', (_label, bytes, kind, hasNul) => {
    expect(scanIn(bytes, 3)).toMatchObject({ binaryKind: kind, hasNul });
  });

  it('refuses updates after finish', () => {
    const scanner = new ByteScanner();
    scanner.finish();
    expect(() => scanner.update(new Uint8Array([1]))).toThrow();
  });
});
