// The key-encryption key (KEK) that protects DNSSEC private keys in the database: 32 random octets,
// base64 on one line, in GLIDEPATH_KEY_FILE. With the default path (in the data directory) the file
// is created on first use, mode 0600; a path the operator named must exist. Anything wrong with it
// is one KeyFileError naming the file.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';

export class KeyFileError extends Error {}

export interface Kek {
  readonly key: Buffer;
  /** First 8 octets of its SHA-256, hex: stored beside each encrypted key. */
  readonly id: string;
  readonly file: string;
}

export interface KeyFileSetting {
  readonly file: string;
  /** Create the file when it is missing (the default path, not one the operator named). */
  readonly create: boolean;
}

export function kekId(key: Buffer): string {
  return createHash('sha256').update(key).digest().subarray(0, 8).toString('hex');
}

export function loadKek(s: KeyFileSetting): Kek {
  if (!existsSync(s.file)) {
    if (!s.create) throw new KeyFileError(`GLIDEPATH_KEY_FILE: ${s.file} does not exist (it holds the key that encrypts DNSSEC private keys)`);
    try {
      mkdirSync(dirname(s.file), { recursive: true });
      // 'wx': never overwrite a key another process created a moment ago.
      writeFileSync(s.file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new KeyFileError(`GLIDEPATH_KEY_FILE: cannot create ${s.file}: ${(err as Error).message}`);
    }
  }
  let text: string;
  try {
    text = readFileSync(s.file, 'utf8').trim();
  } catch (err) {
    throw new KeyFileError(`GLIDEPATH_KEY_FILE: cannot read ${s.file}: ${(err as Error).message}`);
  }
  const key = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || key.length !== 32) {
    throw new KeyFileError(`GLIDEPATH_KEY_FILE: ${s.file} must hold 32 octets in base64 (e.g. \`openssl rand -base64 32\`)`);
  }
  return { key, id: kekId(key), file: s.file };
}

/** Loads the key once, when first needed (a server without signed domains never touches it). */
export class KekHolder {
  private kek: Kek | undefined;
  constructor(private readonly setting: KeyFileSetting) {}
  get(): Kek { return (this.kek ??= loadKek(this.setting)); }
}
