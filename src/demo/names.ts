/**
 * Plausible French company and person names for the demo data. Every character here is in Windows-1252, so a
 * generated file can be written in either encoding the import accepts.
 */
import type { Random } from './random.ts';

const LEGAL_FORMS = ['SARL', 'SAS', 'SASU', 'EURL', 'SA', 'SCI', 'SELARL', 'SNC'] as const;

const TRADES = [
  'Boulangerie', 'Pâtisserie', 'Boucherie', 'Charcuterie', 'Électricité', 'Plomberie', 'Menuiserie', 'Maçonnerie',
  'Transports', 'Garage', 'Hôtel', 'Café', 'Brasserie', 'Librairie', 'Pharmacie', 'Cabinet', 'Agence', 'Atelier',
  'Société', 'Entreprise', 'Conseil', 'Informatique', 'Imprimerie', 'Fromagerie', 'Crèmerie', 'Épicerie',
] as const;

const PLACES = [
  'du Château', 'de la Gare', 'des Écoles', 'du Marché', 'de l\'Église', 'du Pont-Neuf', 'des Halles',
  'de la Côte d\'Azur', 'du Lac d\'Annecy', 'de Bourgogne', 'de Provence', 'Saint-Étienne', 'de l\'Étoile',
  'du Vieux-Port', 'de Montréal-la-Cluse', 'des Îles', 'du Bœuf Couronné', 'd\'Armor', 'Générale', 'Moderne',
] as const;

const FAMILY_NAMES = [
  'MARTIN', 'BERNARD', 'DUBOIS', 'THOMAS', 'ROBERT', 'RICHARD', 'PETIT', 'DURAND', 'LEROY', 'MOREAU', 'SIMON',
  'LAURENT', 'LEFÈVRE', 'MICHEL', 'GARCIA', 'DAVID', 'BERTRAND', 'ROUX', 'VINCENT', 'FOURNIER', 'MOREL', 'GIRARD',
  'ANDRÉ', 'MERCIER', 'DUPONT', 'LAMBERT', 'BONNET', 'FRANÇOIS', 'MARTINEZ', 'LEGRAND', 'GARNIER', 'FAURE',
  'D\'ALEMBERT', 'N\'GUYEN', 'LE GOFF', 'CHÂTELAIN', 'BOËL', 'NOËL',
] as const;

const GIVEN_NAMES = [
  'Jean', 'Marie', 'Hélène', 'François', 'Zoé', 'Loïc', 'Anaïs', 'Jérôme', 'Céline', 'Benoît', 'Agnès', 'Noël',
  'Cécile', 'Gaëlle', 'Stéphane', 'Frédéric', 'Léa', 'Raphaël', 'Chloé', 'Joël',
] as const;

const QUOTED_BRANDS = ['LE PIN', 'L\'ESCALE', 'CHEZ PAUL', 'AU BON ACCUEIL', 'LES 3 CHÊNES'] as const;

export function companyName(random: Random): string {
  const form = random.pick(LEGAL_FORMS);
  const roll = random.next();
  if (roll < 0.06) return `${form} "${random.pick(QUOTED_BRANDS)}"`;
  // A few names carry a `;`, the registry delimiter: the file writer must quote them.
  if (roll < 0.08) return `${form} ${random.pick(FAMILY_NAMES)}; ${random.pick(FAMILY_NAMES)} & ASSOCIÉS`;
  if (roll < 0.3) return `${form} ${random.pick(FAMILY_NAMES)} ET FILS`;
  return `${form} ${random.pick(TRADES)} ${random.pick(PLACES)}`;
}

export function personName(random: Random): string {
  const prefix = random.chance(0.3) ? 'EI ' : '';
  return `${prefix}${random.pick(FAMILY_NAMES)} ${random.pick(GIVEN_NAMES)}`;
}
