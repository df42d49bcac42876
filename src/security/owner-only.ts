import { statSync } from 'node:fs';

/**
 * True when a file other users of the machine may read (any group or other permission bit).
 * Files holding secrets (bank credentials, audit keys) are refused then, as ssh refuses a
 * readable private key. Windows has no such bits: always false there. Throws when the file
 * cannot be read (ENOENT…), like the read that would follow.
 */
export function readableByOthers(path: string): boolean {
  return process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0;
}
