/**
 * The import file template: French headers of SPEC §2, `;`, UTF-8 with BOM and CRLF (what French Excel opens
 * as is), one example row per case and a removal. Identifiers are well-formed (check digits right) but made up.
 */
const ROWS = [
  ['action', 'cas', 'siren', 'siret', 'numéro de compte', 'montant', 'nir', 'services en ligne', 'services courriel', 'nom'],
  ['ajout', 'employeur', '732829320', '', '117000000000000011', '1 234,56', '', 'DECLARER_PAYER|ATTESTATIONS', 'COURRIEL_ECHEANCES', 'SARL Exemple'],
  ['ajout', 'indépendant', '443061841', '', '117000000000000022', '', '185077510112331', 'CONSULTER_COMPTE', '', 'Jean Exemple'],
  ['ajout', 'profession libérale réglementée', '512345679', '', '117000000000000033', '850,00', '', '', '', 'Cabinet Exemple'],
  ['ajout', 'gérant majoritaire', '', '', '117000000000000044', '1 500,00', '', '', '', 'Marie Exemple'],
  ['suppression', '', '', '', '117000000000000055', '', '', '', '', 'Ancien client'],
];

export const TEMPLATE_CSV = '\uFEFF' + ROWS.map((r) => r.join(';')).join('\r\n') + '\r\n';
