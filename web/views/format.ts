import type { Batch } from '../../src/db/database.ts';

/** French words for the product's English identifiers; the codes themselves stay visible beside them. */
export const STATUS_LABELS: Record<string, string> = {
  queued: 'En attente',
  validating: 'Lecture du fichier',
  applying: 'Application',
  completed: 'Terminé',
  failed: 'Échec',
  cancelled: 'Annulé',
};

export const MODE_LABELS: Record<string, string> = { apply: 'Import', dry_run: 'Simulation' };

export const OUTCOME_LABELS: Record<string, string> = {
  added: 'Ajouté',
  removed: 'Supprimé',
  updated: 'Mis à jour',
  unchanged: 'Inchangé',
  rejected: 'Rejeté',
};

export const CASE_LABELS: Record<string, string> = {
  employer: 'Employeur',
  independent: 'Travailleur indépendant',
  liberal_regulated: 'Profession libérale réglementée',
  manager_without_siret: 'Gérant majoritaire sans SIRET',
};

export const ACTION_LABELS: Record<string, string> = { add: 'Ajout', remove: 'Suppression' };

export const EVENT_LABELS: Record<string, string> = { added: 'Ajouté', updated: 'Mis à jour', removed: 'Supprimé' };

const DATE_TIME = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'short', timeStyle: 'medium', timeZone: 'Europe/Paris' });
const DATE_LONG = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Paris' });
const NUMBER = new Intl.NumberFormat('fr-FR');

export const formatDateTime = (d: Date | string | null | undefined) => (d ? DATE_TIME.format(new Date(d)) : '');
export const formatDateLong = (d: Date | string | null | undefined) => (d ? DATE_LONG.format(new Date(d)) : '');
export const formatNumber = (n: number) => NUMBER.format(n);

export const isUnfinished = (b: Pick<Batch, 'status'>) => b.status === 'queued' || b.status === 'validating' || b.status === 'applying';

/** Rows with an outcome so far (the counts grow live while a batch applies). */
export const judgedRows = (b: Batch) => b.added + b.removed + b.updated + b.unchanged + b.rejected;

/**
 * Where a batch stands, as one fraction: reading the file is the first half, applying the second, so the bar
 * never goes back. Undefined while queued (an indeterminate bar).
 */
export function batchProgress(b: Batch): { value: number; max: number; text: string } | undefined {
  const pct = (x: number) => `${Math.floor(x * 100)} %`;
  switch (b.status) {
    case 'queued':
      return undefined;
    case 'validating': {
      const read = b.size > 0 ? Math.min(1, b.bytes_read / b.size) : 0;
      return { value: Math.round(read * 500), max: 1000, text: `Lecture du fichier : ${pct(read)}` };
    }
    case 'applying': {
      const done = b.total > 0 ? Math.min(1, judgedRows(b) / b.total) : 0;
      return {
        value: 500 + Math.round(done * 500),
        max: 1000,
        text: `Application : ${formatNumber(judgedRows(b))} / ${formatNumber(b.total)} lignes (${pct(done)})`,
      };
    }
    default:
      return { value: 1000, max: 1000, text: STATUS_LABELS[b.status] ?? b.status };
  }
}

export function delimiterLabel(d: string | null): string {
  if (d === '\t') return 'tabulation';
  if (d === ';') return '« ; »';
  if (d === ',') return '« , »';
  return 'inconnu';
}

export function encodingLabel(e: string | null): string {
  if (e === 'windows-1252') return 'Windows-1252';
  if (e === 'utf-8') return 'UTF-8';
  return 'encodage inconnu';
}

/** Column headings of the counts: rows (lignes) that were… */
export const OUTCOME_PLURAL: Record<string, string> = {
  added: 'Ajoutées',
  removed: 'Supprimées',
  updated: 'Mises à jour',
  unchanged: 'Inchangées',
  rejected: 'Rejetées',
};
