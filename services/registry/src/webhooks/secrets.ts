import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { MlflowError } from '@mast/common';

/**
 * Webhook secrets at rest: AES-256-GCM under `MAST_WEBHOOKS_SECRET_KEY` (32 bytes, hex or base64). Stored
 * as `v1.<base64(iv | tag | ciphertext)>`; a fresh 96-bit IV per secret. Secrets are never returned by
 * an API nor logged: only the delivery worker decrypts them, to sign.
 */
const PREFIX = 'v1.';

/** Parses the configured key; undefined when unset, a message when malformed. */
export function parseSecretKey(value: string | undefined): Buffer | string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  const decoded = Buffer.from(trimmed, 'base64');
  if (decoded.length === 32 && /^[A-Za-z0-9+/_-]+=*$/.test(trimmed)) return decoded;
  return 'expected a 32-byte key: 64 hex characters or base64 (e.g. `openssl rand -base64 32`)';
}

export class SecretBox {
  constructor(private readonly key: Buffer | undefined) {}

  /** Whether secrets can be stored (a key is configured). */
  get enabled(): boolean {
    return this.key !== undefined;
  }

  encrypt(secret: string): string {
    if (!this.key) {
      throw MlflowError.invalidParameter(
        'Webhook secrets cannot be stored: the server has no MAST_WEBHOOKS_SECRET_KEY configured',
      );
    }
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64');
  }

  /** Throws when the key is missing or is not the one the secret was stored with. */
  decrypt(stored: string): string {
    if (!this.key) throw new Error('webhook secret stored but MAST_WEBHOOKS_SECRET_KEY is not configured');
    if (!stored.startsWith(PREFIX)) throw new Error('unknown webhook secret format');
    const raw = Buffer.from(stored.slice(PREFIX.length), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    try {
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(
        'webhook secret cannot be decrypted: MAST_WEBHOOKS_SECRET_KEY differs from the one it was stored with',
      );
    }
  }
}
