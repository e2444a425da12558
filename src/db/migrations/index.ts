import type { Migration } from 'kysely';
import * as m20261127_0500 from './2026_11_27_0500_create_schema.ts';
import * as m20261127_0900 from './2026_11_27_0900_batch_row_per_batch.ts';
import * as m20261127_1200 from './2026_11_27_1200_identifiers_bytewise.ts';
import * as m20261127_1300 from './2026_11_27_1300_history_hash_index.ts';
import * as m20261127_1400 from './2026_11_27_1400_batch_row_without_nir_hash.ts';
import * as m20261127_1500 from './2026_11_27_1500_adds_on_client_rows.ts';

/** Every migration, by name; names sort in the order they run. */
export const migrations: Record<string, Migration> = {
  '2026_11_27_0500_create_schema': m20261127_0500,
  '2026_11_27_0900_batch_row_per_batch': m20261127_0900,
  '2026_11_27_1200_identifiers_bytewise': m20261127_1200,
  '2026_11_27_1300_history_hash_index': m20261127_1300,
  '2026_11_27_1400_batch_row_without_nir_hash': m20261127_1400,
  '2026_11_27_1500_adds_on_client_rows': m20261127_1500,
};
