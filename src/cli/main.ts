import { parseArgs } from 'node:util';
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { basename } from 'node:path';
import { loadConfig, type Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { connectDb } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createApiToken, createUser, findActorByUserId, findUserByEmail } from '../users/user.repository.ts';
import { importRegistryFile } from '../registry/registry-import.ts';
import { storeUpload } from '../batches/upload.repository.ts';
import { submitBatch } from '../batches/submit-batch.ts';
import { ADMIN_SCOPE, findBatch } from '../batches/batch.repository.ts';
import { batchJson } from '../batches/batch-json.ts';
import { createBatchQueue, producerConnection } from '../queue/queue.ts';
import { DEMO_REGISTRY_SIZE, DEMO_SEED, seedDemo } from '../demo/seed.ts';
import { generateImportLines, generateRegistry } from '../demo/generate.ts';
import { writeFile } from 'node:fs/promises';
import iconv from 'iconv-lite';

class UsageError extends Error {}

const USAGE = `Usage: npm run cli -- <command>
  migrate
  registry:import <file>
  user:add --declarant <name> --email <email> --password <password> [--admin]
  token:create --email <email>
  import <file> --email <email> [--dry-run] [--wait]
  seed:demo
  demo:file [--rows N] [--out FILE]`;

type Handler = (config: Config, args: string[]) => Promise<void>;

const commands: Record<string, Handler> = {
  async migrate(config) {
    const applied = await migrateToLatest(config.databaseUrl);
    console.log(applied.length ? `Migrations appliquées : ${applied.join(', ')}` : 'Schéma à jour');
  },

  async 'registry:import'(config, args) {
    const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
    const file = positionals[0];
    if (!file) throw new UsageError('registry:import needs a file');
    await readable(file);
    await migrateToLatest(config.databaseUrl);
    await withDb(config, async ({ db }) => {
      const r = await importRegistryFile(db, () => createReadStream(file), config.nirHashKey);
      for (const rej of r.rejections.slice(0, 50)) console.log(`ligne ${rej.line} : ${rej.message}`);
      if (r.rejections.length > 50) console.log(`… et ${r.rejections.length - 50} autres lignes rejetées`);
      console.log(`inserted=${r.inserted} updated=${r.updated} rejected=${r.rejections.length}`);
    });
  },

  async 'user:add'(config, args) {
    const { values } = parseArgs({
      args,
      options: { declarant: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' }, admin: { type: 'boolean' } },
    });
    if (!values.declarant || !values.email || !values.password) throw new UsageError('user:add needs --declarant, --email and --password');
    if (values.password.length < 8) throw new UsageError('the password must have at least 8 characters');
    await migrateToLatest(config.databaseUrl);
    await withDb(config, async ({ db }) => {
      const user = await createUser(db, { declarant: values.declarant!, email: values.email!, password: values.password!, isAdmin: values.admin });
      console.log(`user ${user.email} created (id ${user.id}${user.is_admin ? ', admin' : ''})`);
    });
  },

  async 'token:create'(config, args) {
    const { values } = parseArgs({ args, options: { email: { type: 'string' } } });
    if (!values.email) throw new UsageError('token:create needs --email');
    await withDb(config, async ({ db }) => {
      const user = await findUserByEmail(db, values.email!);
      if (!user) throw new Error(`no user with e-mail ${values.email}`);
      console.log(await createApiToken(db, user.id));
    });
  },

  async import(config, args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { email: { type: 'string' }, 'dry-run': { type: 'boolean' }, wait: { type: 'boolean' } },
    });
    const file = positionals[0];
    if (!file || !values.email) throw new UsageError('import needs a file and --email');
    await readable(file);
    await withDb(config, async ({ db, pool }) => {
      const user = await findUserByEmail(db, values.email!);
      const actor = user && (await findActorByUserId(db, user.id));
      if (!actor) throw new Error(`no user with e-mail ${values.email}`);
      const redis = producerConnection(config.redisUrl);
      redis.on('error', () => {});
      const queue = createBatchQueue(redis, config.queuePrefix);
      try {
        const stored = await storeUpload(pool, {
          declarantId: actor.declarantId,
          filename: basename(file),
          body: createReadStream(file),
          maxBytes: config.uploadMaxBytes,
        });
        const log = createLogger('silent');
        const batch = await submitBatch(
          { db, pool, queue, log, uploadMaxBytes: config.uploadMaxBytes },
          { actor, filename: basename(file), mode: values['dry-run'] ? 'dry_run' : 'apply', stored },
        );
        console.log(`batch ${batch.id} queued`);
        if (!values.wait) return;
        for (;;) {
          const b = (await findBatch(db, ADMIN_SCOPE, batch.id))!;
          if (!['queued', 'validating', 'applying'].includes(b.status)) {
            console.log(JSON.stringify(batchJson(b)));
            return;
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      } finally {
        await queue.close();
        redis.disconnect();
      }
    });
  },

  /** An import file for the demo registry (Windows-1252, `;`, with a few bad rows), to try the product with. */
  async 'demo:file'(_config, args) {
    const { values } = parseArgs({ args, options: { rows: { type: 'string', default: '200' }, out: { type: 'string', default: 'demo-import.csv' } } });
    const rows = Number(values.rows);
    if (!Number.isInteger(rows) || rows < 1 || rows > 5_000_000) throw new UsageError('--rows must be a whole number from 1 to 5000000');
    const registry = [...generateRegistry({ count: DEMO_REGISTRY_SIZE, seed: DEMO_SEED })];
    let text = '';
    for (const line of generateImportLines(registry, { rows, seed: DEMO_SEED + rows })) text += line.replace(/\n$/, '\r\n');
    await writeFile(values.out!, iconv.encode(text, 'windows-1252'));
    console.log(`${values.out}: ${rows} lignes (Windows-1252, séparateur ;)`);
  },

  async 'seed:demo'(config) {
    await migrateToLatest(config.databaseUrl);
    await withDb(config, async ({ db }) => {
      const result = await seedDemo(db, config);
      console.log(`registry: ${result.accounts} accounts`);
      for (const u of result.users) console.log(`${u.role}: ${u.email} / ${u.password}`);
    });
  },
};

async function readable(file: string): Promise<void> {
  await access(file).catch(() => {
    throw new Error(`cannot read ${file}`);
  });
}

async function withDb<T>(config: Config, fn: (d: ReturnType<typeof connectDb>) => Promise<T>): Promise<T> {
  const d = connectDb(config.databaseUrl, { max: 4 });
  try {
    return await fn(d);
  } finally {
    await d.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  const handler = name ? commands[name] : undefined;
  if (!handler) throw new UsageError(name ? `unknown command "${name}"\n${USAGE}` : USAGE);
  await handler(loadConfig(), args);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error: ${message.split('\n')[0]}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
