import type { Column, Delimiter } from '../domain/types.ts';

/**
 * Header mapping (SPEC §2): names are matched ignoring case, accents, spaces, `-`, `_`, `.`, `'`, a leading `n°`
 * or `nº`, and a leading `no` followed by a space or a dot.
 */
const HEADER_ALIASES: Record<Column, string[]> = {
  action: ['action', 'operation', 'opération', 'type action'],
  case: ['case', 'cas', 'type client', 'catégorie', 'categorie'],
  siren: ['siren'],
  siret: ['siret'],
  account_number: ['account number', 'numéro de compte', 'numero compte', 'n° compte', 'compte'],
  amount: ['amount', 'montant'],
  nir: ['nir', 'numéro de sécurité sociale', 'numero securite sociale', 'nss'],
  online_services: ['online services', 'services en ligne', 'services'],
  email_services: ['email services', 'services courriel', 'courriels'],
  name: ['name', 'nom', 'raison sociale', 'dénomination'],
};

/** French labels for messages about columns. */
export const COLUMN_LABELS: Record<Column, string> = {
  action: 'action',
  case: 'cas',
  siren: 'SIREN',
  siret: 'SIRET',
  account_number: 'numéro de compte',
  amount: 'montant',
  nir: 'NIR',
  online_services: 'services en ligne',
  email_services: 'services courriel',
  name: 'nom',
};

const COMBINING_MARKS = /[\u0300-\u036f]/g;
// Spaces of every kind, `-`, `_`, `.`, straight and typographic apostrophes.
const IGNORED = /[\s\u00a0\u202f\-_.'\u2019]/g;

export function normalizeHeader(raw: string): string {
  let name = raw.trim().toLowerCase().normalize('NFD').replace(COMBINING_MARKS, '');
  if (name.startsWith('n°') || name.startsWith('nº')) name = name.slice(2);
  else if (/^no[\s.]/.test(name)) name = name.slice(3);
  return name.replace(IGNORED, '');
}

const COLUMN_BY_HEADER = new Map<string, Column>();
for (const [column, aliases] of Object.entries(HEADER_ALIASES) as [Column, string[]][]) {
  for (const alias of aliases) COLUMN_BY_HEADER.set(normalizeHeader(alias), column);
}

/** The column a header names, or null when unknown. */
export function columnForHeader(raw: string): Column | null {
  return COLUMN_BY_HEADER.get(normalizeHeader(raw)) ?? null;
}

/**
 * The delimiter the header line uses most, outside quotes: `;` wins ties (French Excel), then TAB, then `,`.
 */
export function detectDelimiter(headerLine: string): Delimiter {
  let semicolons = 0;
  let tabs = 0;
  let commas = 0;
  let quoted = false;
  for (let i = 0; i < headerLine.length; i++) {
    const code = headerLine.charCodeAt(i);
    if (code === 0x22) quoted = !quoted;
    else if (quoted) continue;
    else if (code === 0x3b) semicolons++;
    else if (code === 0x09) tabs++;
    else if (code === 0x2c) commas++;
  }
  if (semicolons >= tabs && semicolons >= commas) return ';';
  return tabs >= commas ? '\t' : ',';
}
