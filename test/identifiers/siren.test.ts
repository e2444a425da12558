import { describe, expect, it } from 'vitest';
import { checkSiren } from '../../src/identifiers/siren.ts';
import { validSiren, wrongLastDigit } from './check-digits.ts';

const danone = validSiren('55203253'); // 552032534
const bakery = validSiren('73282932');

describe('checkSiren', () => {
  it.each([
    ['plain 9 digits', bakery, bakery],
    ['grouped by spaces', `${bakery.slice(0, 3)} ${bakery.slice(3, 6)} ${bakery.slice(6)}`, bakery],
    ['grouped by NBSP', `${bakery.slice(0, 3)}\u00a0${bakery.slice(3, 6)}\u00a0${bakery.slice(6)}`, bakery],
    ['grouped by narrow NBSP', `${bakery.slice(0, 3)}\u202f${bakery.slice(3)}`, bakery],
    ['dots and dashes', `${danone.slice(0, 3)}.${danone.slice(3, 6)}-${danone.slice(6)}`, danone],
    ['surrounding spaces', `  ${danone} `, danone],
  ])('accepts %s', (_label, raw, expected) => {
    expect(checkSiren(raw)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['8 digits', bakery.slice(1), 'zéro initial perdu ?'],
    ['10 digits', `${bakery}1`, undefined],
    ['letters', '73282932A', undefined],
    ['all zeros', '000000000', undefined],
    ['empty', '', undefined],
    ['scientific notation', '7,33E+08', 'nombre abîmé par Excel en notation scientifique : formatez la colonne en texte'],
  ])('refuses %s as SIREN_INVALID', (_label, raw, hint) => {
    const result = checkSiren(raw);
    expect(result).toMatchObject({ ok: false, code: 'SIREN_INVALID' });
    expect(result.ok ? undefined : result.hint).toBe(hint);
  });

  it.each([wrongLastDigit(bakery), wrongLastDigit(danone), '123456789'])('refuses %s as SIREN_CHECKSUM', (raw) => {
    expect(checkSiren(raw)).toEqual({ ok: false, code: 'SIREN_CHECKSUM' });
  });
});
