import { pino, type Logger } from 'pino';

export type { Logger };

/** The one pino root. Secrets and personal data are redacted wherever they might slip in. */
export function createLogger(level = 'info', name = 'portfolio-import'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'nir', '*.nir', 'req.headers.authorization', 'req.headers.cookie', 'headers.cookie', 'headers.authorization'],
      censor: '[redacted]',
    },
  });
}
