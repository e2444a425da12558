import { describe, expect, it } from 'vitest';
import { checkNir, maskNir } from '../../src/identifiers/nir.ts';
import { validNir, wrongLastDigit } from './check-digits.ts';

describe('checkNir', () => {
  it.each([
    ['man born in Paris', validNir('1850775056123')],
    ['woman, department 01', validNir('2991201001001')],
    ['Corse-du-Sud 2A', validNir('290052A004012')],
    ['Haute-Corse 2B', validNir('167092B033999')],
    ['overseas 97x + 2-digit commune', validNir('1750397105042')],
    ['98x', validNir('2750398725001')],
    ['born abroad (99 + country)', validNir('1800699352007')],
    ['department 96', validNir('1450196001001')],
    ['month 20-42 (fictitious month)', validNir('1853075056123')],
    ['month 50-99', validNir('1855075056123')],
    ['sex 3, 4, 7, 8 (temporary numbers)', validNir('7850775056123')],
    ['sex 8', validNir('8850775056123')],
  ])('accepts %s', (_label, nir) => {
    expect(checkNir(nir)).toEqual({ ok: true, value: nir });
  });

  it('accepts separators and a lower-case 2a, giving it back upper case', () => {
    const nir = validNir('290052A004012');
    const written = `2 90 05 2a 004 012 ${nir.slice(13)}`;
    expect(checkNir(written)).toEqual({ ok: true, value: nir });
    expect(checkNir(`2.90.05.2b.004.012.${validNir('290052B004012').slice(13)}`)).toEqual({
      ok: true,
      value: validNir('290052B004012'),
    });
  });

  it.each([
    ['14 characters', validNir('1850775056123').slice(1)],
    ['16 characters', `${validNir('1850775056123')}0`],
    ['sex 5', validNir('5850775056123')],
    ['sex 0', validNir('0850775056123')],
    ['month 00', validNir('1850075056123')],
    ['month 13', validNir('1851375056123')],
    ['month 19', validNir('1851975056123')],
    ['month 43', validNir('1854375056123')],
    ['department 00', validNir('1850700056123')],
    ['department 2C', '1850702C056123'.slice(0, 13) + '00'],
    ['order 000', validNir('1850775056000')],
    ['letters in the commune', '18507750A612345'],
    ['non-digit key', '1850775056123AB'],
    ['scientific notation', '1,85077E+14'],
  ])('refuses %s as NIR_INVALID', (_label, raw) => {
    expect(checkNir(raw)).toMatchObject({ ok: false, code: 'NIR_INVALID' });
  });

  it.each([
    ['wrong key', wrongLastDigit(validNir('1850775056123'))],
    ['2A key computed as if 20', '290052A004012' + String(97n - (2900520004012n % 97n)).padStart(2, '0')],
    ['key 00', '185077505612300'],
  ])('refuses %s as NIR_CHECKSUM', (_label, raw) => {
    expect(checkNir(raw)).toEqual({ ok: false, code: 'NIR_CHECKSUM' });
  });
});

describe('maskNir', () => {
  it('shows sex, year, month and key only', () => {
    const nir = validNir('1850775056123');
    expect(maskNir(nir)).toBe(`1 85 07 •• ••• ••• ${nir.slice(13)}`);
    expect(maskNir(`1 85 07 75 056 123 ${nir.slice(13)}`)).toBe(`1 85 07 •• ••• ••• ${nir.slice(13)}`);
  });

  it('hides a value that is not 15 characters entirely', () => {
    expect(maskNir('18507750561')).toBe('•••••••••••');
    expect(maskNir('')).toBe('');
  });
});
