import { describe, expect, it } from 'vitest';
import { checkAccountNumber } from '../../src/identifiers/account-number.ts';

describe('checkAccountNumber', () => {
  it.each([
    ['18 digits', '117000000012345678', '117000000012345678'],
    ['grouped', '117 0000000 1234 5678', '117000000012345678'],
    ['NBSP, dots and dashes', '117\u00a0000.000-012\u202f345678', '117000000012345678'],
    ['leading zero kept', '017000000012345678', '017000000012345678'],
  ])('accepts %s', (_label, raw, value) => {
    expect(checkAccountNumber(raw)).toEqual({ ok: true, value });
  });

  it.each([
    ['17 digits', '17000000012345678', 'zéro initial perdu ?'],
    ['19 digits', '1170000000123456789', undefined],
    ['a letter', '11700000001234567A', undefined],
    ['Excel scientific notation', '1,17E+17', 'nombre abîmé par Excel en notation scientifique : formatez la colonne en texte'],
    ['Excel scientific notation, dot', '1.17E+17', 'nombre abîmé par Excel en notation scientifique : formatez la colonne en texte'],
    ['empty', '', undefined],
  ])('refuses %s as ACCOUNT_INVALID', (_label, raw, hint) => {
    const result = checkAccountNumber(raw);
    expect(result).toMatchObject({ ok: false, code: 'ACCOUNT_INVALID' });
    expect(result.ok ? undefined : result.hint).toBe(hint);
  });
});
