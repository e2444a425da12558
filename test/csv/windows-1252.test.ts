import { describe, expect, it } from 'vitest';
import { decodeWindows1252, encodeWindows1252 } from '../../src/csv/windows-1252.ts';

describe('Windows-1252', () => {
  it.each([
    [0x80, '€'], [0x81, '\u0081'], [0x8c, 'Œ'], [0x8d, '\u008d'], [0x92, '’'], [0x9c, 'œ'], [0x9f, 'Ÿ'], [0xa0, '\u00a0'], [0xe9, 'é'], [0x41, 'A'],
  ])('decodes byte %i as the WHATWG index says', (byte, text) => {
    expect(decodeWindows1252(Uint8Array.of(byte))).toBe(text);
  });

  it('round-trips every byte', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect([...encodeWindows1252(decodeWindows1252(all))]).toEqual([...all]);
  });
});
