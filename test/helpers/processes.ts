/**
 * Real child processes for the reliability tests: workers (worker/main.ts) and web servers (web/main.ts), each run
 * as `node --import tsx <entry>` from the repository root, so that a SIGKILL kills exactly what production would
 * lose. Their output is kept (the tail only) for diagnostics; nothing here touches a process the test did not start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How much of a child's output is kept (the most recent bytes). */
const OUTPUT_TAIL_BYTES = 256 * 1024;

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<ChildExit>;
  exit(): ChildExit | undefined;
  alive(): boolean;
  /** The tail of stdout and stderr, interleaved as they came. */
  output(): string;
  /** Resolves once a line matching `pattern` has been printed (checked against everything seen so far). */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  /** Peak resident set size (VmHWM) in MB while alive; the last value sampled once it has exited. */
  peakRssMb(): number | undefined;
  /** Sends a signal and resolves on exit; SIGKILL after `timeoutMs` if a softer signal was not enough. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ChildExit>;
}

/** Reads VmHWM (peak RSS) of a live process, in MB. */
export function readPeakRssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The node flags package.json's script runs `entry` with (e.g. the capped heap of `npm run worker`), so that a
 * child behaves as production does: `--import tsx` and any `--max-old-space-size`.
 */
export function nodeFlagsOfScript(script: 'web' | 'worker'): string[] {
  const pkg = JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> };
  return (pkg.scripts[script] ?? '').split(/\s+/).filter((f) => /^--max-old-space-size=\d+$/.test(f));
}

export function spawnTsx(name: string, entry: string, env: Record<string, string>, nodeFlags: string[] = []): Child {
  const proc = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', entry], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`${name}: spawn failed`);
  const pid = proc.pid;
  let tail = '';
  let seen = ''; // lines searched by waitForOutput; bounded like the tail
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const append = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    tail = (tail + text).slice(-OUTPUT_TAIL_BYTES);
    seen = (seen + text).slice(-OUTPUT_TAIL_BYTES);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].pattern.test(seen)) {
        waiters[i].resolve();
        waiters.splice(i, 1);
      }
    }
  };
  proc.stdout!.on('data', append);
  proc.stderr!.on('data', append);
  let exitInfo: ChildExit | undefined;
  let lastPeak: number | undefined;
  // Sample the peak while the process lives: /proc/<pid> is gone once it has been reaped.
  const sampler = setInterval(() => {
    const p = readPeakRssMb(pid);
    if (p !== undefined) lastPeak = p;
  }, 200);
  sampler.unref();
  const exited = new Promise<ChildExit>((resolve) => {
    proc.once('exit', (code, signal) => {
      clearInterval(sampler);
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });
  const child: Child = {
    name,
    pid,
    process: proc,
    exited,
    exit: () => exitInfo,
    alive: () => exitInfo === undefined,
    output: () => tail,
    waitForOutput(pattern, timeoutMs) {
      if (pattern.test(seen)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`${name}: no output matching ${pattern} after ${timeoutMs} ms (${exitInfo ? `exited ${JSON.stringify(exitInfo)}` : 'alive'})\n${tail.slice(-4000)}`));
        }, timeoutMs);
        waiters.push({
          pattern,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        void exited.then(() => {
          // A process that died before printing the line will never print it.
          setTimeout(() => {
            clearTimeout(timer);
            reject(new Error(`${name}: exited ${JSON.stringify(exitInfo)} before printing ${pattern}\n${tail.slice(-4000)}`));
          }, 50);
        });
      });
    },
    peakRssMb() {
      if (exitInfo === undefined) {
        const p = readPeakRssMb(pid);
        if (p !== undefined) lastPeak = p;
      }
      return lastPeak;
    },
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (exitInfo) return exitInfo;
      proc.kill(signal);
      if (signal === 'SIGKILL') return exited;
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  return child;
}

/** A TCP port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The environment of a worker or web child: everything src/config.ts reads, nothing inherited by accident. */
export interface ProcessEnv {
  DATABASE_URL: string;
  REDIS_URL: string;
  QUEUE_PREFIX: string;
  NIR_HASH_KEY: string;
  [name: string]: string;
}

/**
 * The database URL a child connects with, tagged with an application_name so that tests can find (and
 * terminate) that process's own PostgreSQL backends in pg_stat_activity.
 */
export function taggedDatabaseUrl(databaseUrl: string, applicationName: string): string {
  const u = new URL(databaseUrl);
  u.searchParams.set('application_name', applicationName);
  return u.toString();
}

export interface WorkerChild extends Child {
  /** The application_name its PostgreSQL connections carry. */
  readonly applicationName: string;
}

/** Starts `worker/main.ts` and waits for its "worker started" line (LOG_LEVEL is forced to info for that). */
export async function startWorkerProcess(name: string, env: ProcessEnv, opts: { readyTimeoutMs?: number } = {}): Promise<WorkerChild> {
  const applicationName = `pi-${name}`;
  const child = spawnTsx(
    name,
    'worker/main.ts',
    { LOG_LEVEL: 'info', ...env, DATABASE_URL: taggedDatabaseUrl(env.DATABASE_URL, applicationName) },
    nodeFlagsOfScript('worker'),
  );
  try {
    await child.waitForOutput(/"msg":"worker started"/, opts.readyTimeoutMs ?? 30_000);
  } catch (err) {
    await child.stop('SIGKILL');
    throw err;
  }
  return Object.assign(child, { applicationName });
}

export interface WebChild extends Child {
  readonly port: number;
  readonly baseUrl: string;
  readonly applicationName: string;
}

/** Starts `web/main.ts` on a free port and waits until /healthz answers 200. */
export async function startWebProcess(name: string, env: ProcessEnv, opts: { readyTimeoutMs?: number } = {}): Promise<WebChild> {
  const port = await freePort();
  const applicationName = `pi-${name}`;
  const child = spawnTsx(
    name,
    'web/main.ts',
    { LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: taggedDatabaseUrl(env.DATABASE_URL, applicationName) },
    nodeFlagsOfScript('web'),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForHealthy(baseUrl, opts.readyTimeoutMs ?? 30_000, child);
  } catch (err) {
    await child.stop('SIGKILL');
    throw err;
  }
  return Object.assign(child, { port, baseUrl, applicationName });
}

/** Polls GET /healthz until it answers 200 (PostgreSQL and Redis both reachable). */
export async function waitForHealthy(baseUrl: string, timeoutMs: number, child?: Child): Promise<void> {
  const start = Date.now();
  let last = 'no answer';
  for (;;) {
    if (child && !child.alive()) throw new Error(`${child.name} exited ${JSON.stringify(child.exit())}\n${child.output().slice(-4000)}`);
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) return;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() - start > timeoutMs) throw new Error(`${baseUrl}/healthz not healthy after ${timeoutMs} ms: ${last}`);
    await sleep(100);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The children of one test: started through it, stopped together in afterAll whatever happened. Killed children
 * stay listed, so their output remains available for diagnostics.
 */
export class ProcessGroup {
  readonly children: Child[] = [];

  add<T extends Child>(child: T): T {
    this.children.push(child);
    return child;
  }

  alive(): Child[] {
    return this.children.filter((c) => c.alive());
  }

  /** Every child's last lines, for a failing assertion's message. */
  diagnostics(lines = 30): string {
    return this.children
      .map((c) => `--- ${c.name} (pid ${c.pid}, ${c.alive() ? 'alive' : `exited ${JSON.stringify(c.exit())}`})\n${c.output().split('\n').slice(-lines).join('\n')}`)
      .join('\n');
  }

  async stopAll(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<void> {
    await Promise.all(this.alive().map((c) => c.stop(signal, timeoutMs)));
  }
}
