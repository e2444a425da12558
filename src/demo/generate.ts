/**
 * Deterministic synthetic data: a registry (référentiel) of Urssaf accounts and import files that refer to it.
 * Used by the demo seed, the benchmarks and the reliability tests. Everything is derived from a seed through
 * mulberry32 and is streamed: an import of millions of rows never sits in memory, only the registry array does.
 */
export {
  generateRegistry,
  registryCsvLines,
  REGISTRY_HEADER,
  UNKNOWN_ACCOUNT_PREFIX,
  formatFrenchAmount,
  type AmountStyle,
  type RegistryAccount,
} from './registry.ts';
export {
  generateImportLines,
  generateImportRecords,
  importLine,
  IMPORT_HEADER,
  DEFAULT_IMPORT_MIX,
  BAD_ROW_KINDS,
  type BadRowKind,
  type ImportMix,
  type ImportRecord,
  type ImportRowKind,
} from './import-file.ts';
export { mulberry32, createRandom, type Random } from './random.ts';
