/**
 * A private redis-server for one test file: its own port, its own directory, AOF on (fsync every second), no RDB
 * snapshot, `noeviction`. It can be shut down without saving and started again on the same port and directory,
 * as a crash and restart would, or flushed. The machine's own Redis is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, sleep } from './processes.ts';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Times the server was started again after its first start. */
  readonly restarts: number;
  /** SHUTDOWN NOSAVE (what is not yet in the AOF is lost), waiting for the process to end. */
  shutdownNoSave(): Promise<void>;
  /** Starts the server again on the same port and directory (it reloads its AOF). */
  start(): Promise<void>;
  /** shutdownNoSave, then start after `downMs`. */
  restart(downMs?: number): Promise<void>;
  flushAll(): Promise<void>;
  running(): boolean;
  /** Stops the server and deletes its directory. */
  close(): Promise<void>;
}

function command(port: number, ...args: string[]): Promise<unknown> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  return client
    .connect()
    .then(() => client.call(args[0], ...args.slice(1)))
    .finally(() => client.disconnect());
}

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'pi-redis-'));
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let restarts = 0;
  let output = '';

  let started = 0;
  const start = async () => {
    if (proc) throw new Error('redis-server already running');
    if (started++ > 0) restarts++;
    const p = spawn(
      'redis-server',
      [
        '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec',
        '--dir', dir, '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--protected-mode', 'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    p.stdout!.on('data', (b: Buffer) => (output = (output + b.toString()).slice(-20_000)));
    p.stderr!.on('data', (b: Buffer) => (output = (output + b.toString()).slice(-20_000)));
    proc = p;
    exited = new Promise((resolve) => p.once('exit', () => {
      if (proc === p) proc = undefined;
      resolve();
    }));
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        if ((await command(port, 'PING')) === 'PONG') return;
      } catch {
        // still loading or not listening yet
      }
      if (!proc) throw new Error(`redis-server exited at start:\n${output}`);
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} not answering:\n${output}`);
      await sleep(50);
    }
  };

  const shutdownNoSave = async () => {
    if (!proc) return;
    const p = proc;
    await command(port, 'SHUTDOWN', 'NOSAVE').catch(() => {}); // the connection drops as it goes down
    const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get restarts() {
      return restarts;
    },
    shutdownNoSave,
    start,
    async restart(downMs = 0) {
      await shutdownNoSave();
      if (downMs > 0) await sleep(downMs);
      await start();
    },
    async flushAll() {
      await command(port, 'FLUSHALL');
    },
    running: () => proc !== undefined,
    async close() {
      await shutdownNoSave().catch(() => {});
      if (proc) {
        proc.kill('SIGKILL');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
