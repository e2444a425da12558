import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import iconv from 'iconv-lite';
import { startStack, type Stack } from '../helpers/stack.ts';
import { apiClient } from '../helpers/api.ts';
import { nir, siren } from '../factories/identifiers.ts';

const run = promisify(execFile);

describe('the command line, as an operator uses it', () => {
  let stack: Stack;
  let env: NodeJS.ProcessEnv;
  const dir = mkdtempSync(join(tmpdir(), 'pi-cli-'));
  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const s1 = siren('61234567');
  const s2 = siren('61234568');
  const nirOk = nir('2900213055321');

  beforeAll(async () => {
    stack = await startStack();
    env = {
      ...process.env,
      DATABASE_URL: stack.config.databaseUrl,
      REDIS_URL: stack.config.redisUrl,
      QUEUE_PREFIX: stack.config.queuePrefix,
      NIR_HASH_KEY: stack.config.nirHashKey,
      LOG_LEVEL: 'silent',
    };
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('migrates (idempotent), imports a registry, creates users and a token, imports a file and waits', async () => {
    expect((await cli('migrate')).code).toBe(0);

    const registry = join(dir, 'registry.csv');
    writeFileSync(
      registry,
      iconv.encode(
        [
          'account_number;kind;siren;nir;reference_amount;status;name',
          `117000000000000011;employer;${s1};;1 234,56;active;SARL Éléphant`,
          `117000000000000022;independent;${s2};${nirOk};;active;Jean Dupont`,
          `117000000000000033;manager_without_siret;;;500;struck_off;Gérant`,
          `117000000000000044;employer;123;;12,00;active;Mauvais SIREN`,
          `117000000000000011;employer;${s1};;1,00;active;Doublon`,
        ].join('\r\n') + '\r\n',
        'windows-1252',
      ),
    );
    const reg = await cli('registry:import', registry);
    expect(reg.code).toBe(0);
    expect(reg.stdout.trim().split('\n').pop()).toBe('inserted=3 updated=0 rejected=2');
    expect(reg.stdout).toContain('ligne 5');
    const again = await cli('registry:import', registry);
    expect(again.stdout.trim().split('\n').pop()).toBe('inserted=0 updated=3 rejected=2');
    const stored = await stack.db.db.selectFrom('account').select(['account_number', 'nir_hash', 'name']).orderBy('account_number').execute();
    expect(stored).toHaveLength(3);
    expect(stored[1].nir_hash).not.toContain(nirOk.slice(0, 5));
    expect(stored[0].name).toBe('SARL Éléphant');

    const user = await cli('user:add', '--declarant', 'Cabinet CLI', '--email', 'cli@cli.test', '--password', 'cli-password-1');
    expect(user.code).toBe(0);
    const dupUser = await cli('user:add', '--declarant', 'Cabinet CLI', '--email', 'cli@cli.test', '--password', 'cli-password-1');
    expect(dupUser.code).not.toBe(0);
    expect(dupUser.stderr.trim().split('\n')).toHaveLength(1);
    expect((await cli('user:add', '--declarant', 'Admin', '--email', 'adm@cli.test', '--password', 'admin-pass-1', '--admin')).code).toBe(0);

    const token = await cli('token:create', '--email', 'cli@cli.test');
    expect(token.code).toBe(0);
    const tokenValue = token.stdout.trim().split('\n').pop()!;
    expect(tokenValue).toMatch(/^pit_[A-Za-z0-9_-]{40,}$/);

    const file = join(dir, 'import.csv');
    writeFileSync(
      file,
      `action;cas;siren;numero de compte;montant;nir\najout;1;${s1};117000000000000011;1234,56;\najout;2;${s2};117000000000000022;;${nirOk}\najout;gérant;;117000000000000033;5;\n`,
    );
    const dry = await cli('import', file, '--email', 'cli@cli.test', '--dry-run', '--wait');
    expect(dry.code).toBe(0);
    const dryBatch = JSON.parse(dry.stdout.trim().split('\n').pop()!);
    expect(dryBatch).toMatchObject({ status: 'completed', mode: 'dry_run', counts: { total: 3, added: 2, rejected: 1 } });
    const applied = await cli('import', file, '--email', 'cli@cli.test', '--wait');
    const batch = JSON.parse(applied.stdout.trim().split('\n').pop()!);
    expect(batch).toMatchObject({ status: 'completed', mode: 'apply', duplicate_of: dryBatch.id, counts: { added: 2, rejected: 1 } });

    // The token works on the API and sees the batch the CLI queued.
    const api = apiClient(stack.baseUrl, tokenValue);
    expect((await api.get(`/batches/${batch.id}`)).body.counts.added).toBe(2);
    expect((await api.get('/portfolio')).body.clients.map((c: any) => c.account_number).sort()).toEqual(['117000000000000011', '117000000000000022']);
  });

  it('fails with a one-line reason and a non-zero code', async () => {
    for (const args of [[], ['nope'], ['token:create', '--email', 'nobody@x.test'], ['import', '/does/not/exist.csv', '--email', 'cli@cli.test'], ['registry:import']]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });

  it('seeds the demo data, twice without harm', async () => {
    const first = await cli('seed:demo');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('admin@demo.test');
    expect((await cli('seed:demo')).code).toBe(0);
    const { n } = await stack.db.db.selectFrom('account').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(Number(n)).toBeGreaterThanOrEqual(10_000);
  });
});
