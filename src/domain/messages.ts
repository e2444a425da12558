import type { FileCode, InfoCode, RejectionCode } from './types.ts';

/** What a message may say about its code: the line it refers to, a hint, the column concerned. */
export interface MessageDetail {
  line?: number;
  hint?: string;
  column?: string;
}

const CASES_HELP = '1 (employeur), 2 (indépendant), 3 (profession libérale réglementée) ou « gérant majoritaire »';

/** One message per code, for accountants (SPEC §3: "Each code has a French message for people"). */
const MESSAGES: Record<RejectionCode | InfoCode | FileCode, string> = {
  ROW_MALFORMED: 'Ligne mal formée : elle n’a pas le même nombre de champs que l’en-tête',
  ACTION_INVALID: 'Action absente ou inconnue : indiquez « ajout » ou « suppression »',
  CASE_REQUIRED: `Cas manquant : indiquez ${CASES_HELP}`,
  CASE_INVALID: `Cas inconnu : indiquez ${CASES_HELP}`,
  SIREN_REQUIRED: 'SIREN ou SIRET manquant',
  SIREN_INVALID: 'SIREN invalide : 9 chiffres attendus',
  SIREN_CHECKSUM: 'SIREN invalide : la clé de contrôle ne correspond pas',
  SIRET_INVALID: 'SIRET invalide : 14 chiffres attendus',
  SIRET_CHECKSUM: 'SIRET invalide : la clé de contrôle ne correspond pas',
  SIREN_SIRET_MISMATCH: 'Le SIRET n’appartient pas au SIREN indiqué',
  ACCOUNT_REQUIRED: 'Numéro de compte manquant',
  ACCOUNT_INVALID: 'Numéro de compte invalide : 18 chiffres attendus',
  AMOUNT_REQUIRED:
    'Montant manquant : indiquez le montant à payer de la dernière déclaration (employeur) ou de la première échéance de l’année',
  AMOUNT_INVALID: 'Montant invalide : écrivez un montant positif en euros, par exemple 1 234,56',
  NIR_REQUIRED: 'NIR (numéro de sécurité sociale) manquant',
  NIR_INVALID: 'NIR invalide : 15 caractères attendus (sexe, année, mois, lieu de naissance, ordre, clé)',
  NIR_CHECKSUM: 'NIR invalide : la clé de contrôle ne correspond pas',
  SERVICE_UNKNOWN: 'Service inconnu',
  KEY_REQUIRED: 'Suppression impossible : indiquez le SIREN, le SIRET ou le numéro de compte du client',
  DUPLICATE_IN_FILE: 'Doublon : ce client figure déjà plus haut dans le fichier',
  ACCOUNT_UNKNOWN: 'Compte inconnu du référentiel Urssaf',
  CASE_MISMATCH: 'Le cas indiqué ne correspond pas à celui du compte',
  ACCOUNT_SIREN_MISMATCH: 'Ce compte n’appartient pas au SIREN indiqué',
  AMOUNT_MISMATCH: 'Le montant ne correspond pas à celui connu de l’Urssaf',
  NIR_MISMATCH: 'Le NIR ne correspond pas à celui du titulaire du compte',
  ACCOUNT_STRUCK_OFF: 'Compte radié : il ne peut pas être ajouté',
  CLIENT_AMBIGUOUS: 'Ce SIREN désigne plusieurs clients du portefeuille : indiquez le numéro de compte',
  PROOF_LOCKED:
    'Trop de justificatifs erronés pour ce compte ces dernières 24 heures : ajout bloqué, réessayez plus tard',
  ALREADY_IN_PORTFOLIO: 'Déjà dans le portefeuille : rien à changer',
  NOT_IN_PORTFOLIO: 'Absent du portefeuille : rien à supprimer',
  FILE_EMPTY: 'Fichier vide : aucune ligne à importer',
  FILE_BINARY: 'Ce fichier n’est pas un fichier CSV (texte)',
  FILE_MALFORMED: 'Fichier illisible en CSV',
  FILE_MISSING_COLUMN: 'Colonne obligatoire absente',
  FILE_DUPLICATE_COLUMN: 'Colonne en double',
};

export function messageFor(code: RejectionCode | InfoCode | FileCode, detail?: MessageDetail): string {
  if (detail === undefined) return MESSAGES[code];
  if (code === 'DUPLICATE_IN_FILE' && detail.line !== undefined) {
    return `Doublon : ce client figure déjà à la ligne ${detail.line} du fichier`;
  }
  let message = MESSAGES[code];
  if (detail.column !== undefined) message += ` : ${detail.column}`;
  if (detail.line !== undefined) message += ` à la ligne ${detail.line}`;
  if (detail.hint !== undefined) message += ` (${detail.hint})`;
  return message;
}

export function joinMessages(parts: string[]): string {
  return parts.join(' ; ');
}

/**
 * A row's message: the one stored with it when it carries details (stage-1 values, the line a duplicate repeats),
 * else the messages of its codes, composed here rather than stored on a million rows.
 */
export function rowMessage(stored: string, codes: readonly string[]): string {
  if (stored !== '' || codes.length === 0) return stored;
  return joinMessages(codes.map((c) => messageFor(c as RejectionCode | InfoCode)));
}
