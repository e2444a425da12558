/**
 * Terminology (the product's own words):
 * - declarant (tiers déclarant): an accounting or payroll firm; every user belongs to one.
 * - client: an Urssaf contributor account (compte cotisant) a declarant manages.
 * - registry (référentiel): the reference table of Urssaf accounts; every add is checked against it.
 * - portfolio (portefeuille): the clients a declarant manages now.
 * - batch (lot): one uploaded file and everything that happened to its rows.
 * - case (cas): the kind of account: employer, independent, liberal_regulated, manager_without_siret.
 */

export const CLIENT_CASES = ['employer', 'independent', 'liberal_regulated', 'manager_without_siret'] as const;
export type ClientCase = (typeof CLIENT_CASES)[number];

export const ACTIONS = ['add', 'remove'] as const;
export type Action = (typeof ACTIONS)[number];

export const OUTCOMES = ['added', 'removed', 'updated', 'unchanged', 'rejected'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** The columns of an import file, after header mapping. */
export const COLUMNS = [
  'action',
  'case',
  'siren',
  'siret',
  'account_number',
  'amount',
  'nir',
  'online_services',
  'email_services',
  'name',
] as const;
export type Column = (typeof COLUMNS)[number];

export const FILE_CODES = [
  'FILE_EMPTY',
  'FILE_BINARY',
  'FILE_MALFORMED',
  'FILE_MISSING_COLUMN',
  'FILE_DUPLICATE_COLUMN',
] as const;
export type FileCode = (typeof FILE_CODES)[number];

export const REJECTION_CODES = [
  'ROW_MALFORMED',
  'ACTION_INVALID',
  'CASE_REQUIRED',
  'CASE_INVALID',
  'SIREN_REQUIRED',
  'SIREN_INVALID',
  'SIREN_CHECKSUM',
  'SIRET_INVALID',
  'SIRET_CHECKSUM',
  'SIREN_SIRET_MISMATCH',
  'ACCOUNT_REQUIRED',
  'ACCOUNT_INVALID',
  'AMOUNT_REQUIRED',
  'AMOUNT_INVALID',
  'NIR_REQUIRED',
  'NIR_INVALID',
  'NIR_CHECKSUM',
  'SERVICE_UNKNOWN',
  'KEY_REQUIRED',
  'DUPLICATE_IN_FILE',
  'ACCOUNT_UNKNOWN',
  'CASE_MISMATCH',
  'ACCOUNT_SIREN_MISMATCH',
  'AMOUNT_MISMATCH',
  'NIR_MISMATCH',
  'ACCOUNT_STRUCK_OFF',
  'CLIENT_AMBIGUOUS',
  'PROOF_LOCKED',
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

export const INFO_CODES = ['ALREADY_IN_PORTFOLIO', 'NOT_IN_PORTFOLIO'] as const;
export type InfoCode = (typeof INFO_CODES)[number];

export type RowCode = RejectionCode | InfoCode;

export type Encoding = 'utf-8' | 'windows-1252';
export type Delimiter = ';' | ',' | '\t';
export type LineEnding = '\r\n' | '\n' | '\r';

export interface ServiceCatalogue {
  online: ReadonlySet<string>;
  email: ReadonlySet<string>;
}

export const DEFAULT_CATALOGUE: ServiceCatalogue = {
  online: new Set(['DECLARER_PAYER', 'CONSULTER_COMPTE', 'ATTESTATIONS', 'DELAIS_PAIEMENT', 'MESSAGERIE']),
  email: new Set(['COURRIEL_ECHEANCES', 'COURRIEL_ATTESTATIONS', 'COURRIEL_ACTUALITES']),
};
