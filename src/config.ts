/** Configuration: read once from the environment, validated, frozen, passed down. */

export interface Config {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly port: number;
  readonly host: string;
  /** Prefix of BullMQ keys; tests use one of their own. */
  readonly queuePrefix: string;
  readonly uploadMaxBytes: number;
  /** Rows judged and applied per transaction. */
  readonly chunkSize: number;
  /** Threads reading a large file (1: the worker's own thread only). */
  readonly readThreads: number;
  /** Days after which stored uploads (and so rejected rows' raw values) are purged. */
  readonly retentionDays: number;
  /** Key of the HMAC that hashes NIRs in the registry and in batch rows. */
  readonly nirHashKey: string;
  readonly cookieSecure: boolean;
  readonly sessionIdleMinutes: number;
  readonly sessionAbsoluteHours: number;
  /** Failed logins in 15 minutes after which an account, or an IP address, is refused for 15 minutes. */
  readonly loginLimitPerAccount: number;
  /** The site's public origin (https://…) when a reverse proxy terminates TLS: what CSRF checks compare with. */
  readonly publicOrigin: string | undefined;
  /** Behind a reverse proxy: take the client's address from X-Forwarded-For (its last entry, the proxy's view). */
  readonly trustProxy: boolean;
  readonly loginLimitPerIp: number;
  readonly workerConcurrency: number;
  readonly logLevel: string;
  /** Seconds between two passes of the reconciler that re-enqueues batches with no live job. */
  readonly reconcileIntervalSeconds: number;
  /** BullMQ lock duration of a batch job (ms); tests make it short. */
  readonly jobLockMs: number;
}

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {}

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];

  const str = (name: string, fallback: string): string => {
    const v = env[name];
    return v === undefined || v === '' ? fallback : v;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  };
  const url = (name: string, fallback: string, protocols: string[]): string => {
    const v = str(name, fallback);
    try {
      const u = new URL(v);
      if (!protocols.includes(u.protocol)) problems.push(`${name} must start with ${protocols.join(' or ')}`);
    } catch {
      problems.push(`${name} is not a valid URL`);
    }
    return v;
  };

  const config: Config = {
    databaseUrl: url('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/portfolio_import', ['postgres:', 'postgresql:']),
    redisUrl: url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    port: int('PORT', 3000, 0, 65535),
    host: str('HOST', '0.0.0.0'),
    queuePrefix: str('QUEUE_PREFIX', 'pi'),
    uploadMaxBytes: int('UPLOAD_MAX_BYTES', 100 * 1024 * 1024, 1024, 2 ** 40),
    chunkSize: int('CHUNK_SIZE', 50_000, 1, 1_000_000),
    readThreads: int('READ_THREADS', 1, 1, 8),
    retentionDays: int('RETENTION_DAYS', 90, 1, 3650),
    nirHashKey: str('NIR_HASH_KEY', 'dev-only-nir-key-change-me'),
    cookieSecure: bool('COOKIE_SECURE', false),
    sessionIdleMinutes: int('SESSION_IDLE_MINUTES', 30, 1, 24 * 60),
    sessionAbsoluteHours: int('SESSION_ABSOLUTE_HOURS', 12, 1, 24 * 30),
    publicOrigin: env.PUBLIC_ORIGIN ? url('PUBLIC_ORIGIN', '', ['https:', 'http:']).replace(/\/$/, '') : undefined,
    trustProxy: bool('TRUST_PROXY', false),
    loginLimitPerAccount: int('LOGIN_LIMIT_PER_ACCOUNT', 10, 1, 1000),
    loginLimitPerIp: int('LOGIN_LIMIT_PER_IP', 100, 1, 100_000),
    workerConcurrency: int('WORKER_CONCURRENCY', 2, 1, 64),
    logLevel: str('LOG_LEVEL', 'info'),
    reconcileIntervalSeconds: int('RECONCILE_INTERVAL_SECONDS', 30, 1, 3600),
    jobLockMs: int('JOB_LOCK_MS', 30_000, 1000, 600_000),
  };
  if (env.NODE_ENV === 'production' && config.nirHashKey === 'dev-only-nir-key-change-me') {
    problems.push('NIR_HASH_KEY must be set in production');
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n- ${problems.join('\n- ')}`);
  return Object.freeze(config);
}
