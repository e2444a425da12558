import { createHash, createHmac, randomBytes } from 'node:crypto';

/** A random secret for tokens and session ids (256 bits, URL-safe). */
export function newSecret(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** Tokens and session ids are stored only as their SHA-256. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** NIRs are stored and compared as a keyed hash (HMAC-SHA-256), never in clear. */
export function hashNir(key: string, nir: string): string {
  return createHmac('sha256', key).update(nir.toUpperCase()).digest('hex');
}
