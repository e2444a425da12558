import type { Migration } from 'kysely';
import * as m20261127_0500 from './2026_11_27_0500_create_schema.ts';

/** Every migration, by name; names sort in the order they run. */
export const migrations: Record<string, Migration> = {
  '2026_11_27_0500_create_schema': m20261127_0500,
};
