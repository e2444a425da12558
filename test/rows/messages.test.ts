import { describe, expect, it } from 'vitest';
import { joinMessages, messageFor } from '../../src/domain/messages.ts';
import { FILE_CODES, INFO_CODES, REJECTION_CODES } from '../../src/domain/types.ts';

describe('messageFor', () => {
  it.each([...REJECTION_CODES, ...INFO_CODES, ...FILE_CODES])('has a French message for %s', (code) => {
    const message = messageFor(code);
    expect(message.length).toBeGreaterThan(5);
    expect(message).not.toContain(code);
  });

  it('gives distinct messages to distinct codes', () => {
    const all = [...REJECTION_CODES, ...INFO_CODES, ...FILE_CODES].map((code) => messageFor(code));
    expect(new Set(all).size).toBe(all.length);
  });

  it.each([
    ['SIREN_CHECKSUM', undefined, 'SIREN invalide : la clé de contrôle ne correspond pas'],
    ['DUPLICATE_IN_FILE', { line: 12 }, 'Doublon : ce client figure déjà à la ligne 12 du fichier'],
    ['SIREN_INVALID', { hint: 'zéro initial perdu ?' }, 'SIREN invalide : 9 chiffres attendus (zéro initial perdu ?)'],
    ['FILE_MALFORMED', { line: 3, hint: 'guillemet ouvert jamais refermé' }, 'Fichier illisible en CSV à la ligne 3 (guillemet ouvert jamais refermé)'],
    ['FILE_MISSING_COLUMN', { column: 'action' }, 'Colonne obligatoire absente : action'],
    ['ALREADY_IN_PORTFOLIO', undefined, 'Déjà dans le portefeuille : rien à changer'],
    ['NOT_IN_PORTFOLIO', undefined, 'Absent du portefeuille : rien à supprimer'],
  ] as const)('%s %j', (code, detail, expected) => {
    expect(messageFor(code, detail)).toBe(expected);
  });
});

describe('joinMessages', () => {
  it('joins with " ; "', () => {
    expect(joinMessages(['a', 'b'])).toBe('a ; b');
    expect(joinMessages([])).toBe('');
  });
});
