/**
 * A world built from the deterministic generator (a registry, a starting portfolio, an import file) and THE
 * ORACLE's expectations for it.
 */
import { expect } from 'vitest';
import { apiClient } from '../helpers/api.ts';
import { createFirm } from '../factories/world.ts';
import { createRandom, generateImportLines, generateRegistry, type RegistryAccount } from '../../src/demo/generate.ts';
import { upsertAccounts } from '../../src/registry/account.repository.ts';
import { DEFAULT_CATALOGUE } from '../../src/domain/types.ts';
import { emptyOracleState, oracleForFile, type OracleFileResult, type OracleState } from '../oracle/oracle.ts';
import { NIR_HASH_KEY, type Rig } from './rig.ts';

export interface World {
  firm: Awaited<ReturnType<typeof createFirm>>;
  api: ReturnType<typeof apiClient>;
  registry: RegistryAccount[];
  /** The oracle's state before the first upload: registry, the starting portfolio, no failed proof. */
  state: OracleState;
}

/**
 * A firm with an API token, a registry of `accounts` accounts, and a starting portfolio holding a seeded share
 * of them (with random services), so that a file's adds meet `unchanged`/`updated` and its removes `removed`.
 */
export async function createWorld(rig: Rig, opts: { accounts: number; seed: number; portfolioShare?: number }): Promise<World> {
  const { db } = rig.db;
  const firm = await createFirm(db, `Cabinet ${opts.seed}`);
  const registry = [...generateRegistry({ count: opts.accounts, seed: opts.seed })];
  for (let i = 0; i < registry.length; i += 5000) await upsertAccounts(db, registry.slice(i, i + 5000), NIR_HASH_KEY);

  const state = emptyOracleState(registry);
  const random = createRandom(opts.seed + 1);
  const online = [...DEFAULT_CATALOGUE.online];
  const email = [...DEFAULT_CATALOGUE.email];
  const subset = (codes: string[]) => codes.filter(() => random.chance(0.3)).sort();
  const clients = [];
  for (const a of registry) {
    if (!random.chance(opts.portfolioShare ?? 0.3)) continue;
    const entry = { case: a.kind, siren: a.siren, onlineServices: subset(online), emailServices: subset(email) };
    state.portfolio.set(a.accountNumber, entry);
    clients.push({
      declarant_id: firm.declarantId,
      account_number: a.accountNumber,
      client_case: a.kind,
      siren: a.siren,
      name: a.name,
      online_services: entry.onlineServices,
      email_services: entry.emailServices,
    });
  }
  for (let i = 0; i < clients.length; i += 2000) await db.insertInto('portfolio_client').values(clients.slice(i, i + 2000)).execute();
  const api = apiClient(rig.web.baseUrl, firm.token);
  // A failed request says what the web process printed (a crash, a limit hit).
  const upload = api.upload.bind(api);
  api.upload = async (...args: Parameters<typeof upload>) => {
    try {
      return await upload(...args);
    } catch (err) {
      throw new Error(`upload failed: ${(err as Error).message} (${(err as Error).cause ?? ''})\n${rig.group.diagnostics(40)}`);
    }
  };
  return { firm, api, registry, state };
}

/** An import file of `rows` records over the registry, from the generator (LF line endings, UTF-8). */
export function importFile(registry: readonly RegistryAccount[], rows: number, seed: number): Buffer {
  return Buffer.from([...generateImportLines(registry, { rows, seed })].join(''), 'utf8');
}

export function expectedFor(bytes: Uint8Array, state: OracleState): Promise<OracleFileResult> {
  return oracleForFile(bytes, state, { dryRun: false });
}


/** The usual start of a fault scenario: a world, an import file, the oracle's expectations, the upload accepted. */
export async function uploadScenario(rig: Rig, opts: { accounts: number; rows: number; seed: number; importSeed: number }) {
  const world = await createWorld(rig, { accounts: opts.accounts, seed: opts.seed });
  const bytes = importFile(world.registry, opts.rows, opts.importSeed);
  const expected = await expectedFor(bytes, world.state);
  const up = await world.api.upload(bytes);
  expect(up.status).toBe(202);
  const batchId: number = up.body.id;
  return { world, bytes, expected, batchId };
}
