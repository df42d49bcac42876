import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { packageRoot } from './package-root.js';
import type { Dialect } from './types.js';

export interface MigrationFile {
  version: number;
  /** `001_initial`: what `migrate` reports as applied. */
  name: string;
  /** Path from the package root, e.g. `sql/mysql/001_initial.sql`, for error messages. */
  file: string;
  /** sha256 hex of the file with line endings normalised (a CRLF checkout is not a change). */
  checksum: string;
  statements: string[];
}

const FILE_NAME = /^(\d+)_([A-Za-z0-9_-]+)\.sql$/;

/**
 * The numbered migrations of one dialect (`sql/<dialect>/NNN_name.sql`), in version order.
 * Throws when two files share a version number.
 */
export function loadMigrationFiles(dialect: Dialect, directory = join(packageRoot(), 'sql', dialect)): MigrationFile[] {
  const root = packageRoot();
  const migrations = readdirSync(directory)
    .map((entry) => ({ entry, match: FILE_NAME.exec(entry) }))
    .filter((item): item is { entry: string; match: RegExpExecArray } => item.match !== null)
    .map(({ entry, match }) => {
      const path = join(directory, entry);
      const text = readFileSync(path, 'utf8').replace(/\r\n/g, '\n');
      return {
        version: Number(match[1]),
        name: entry.replace(/\.sql$/, ''),
        file: relative(root, path) || path,
        checksum: createHash('sha256').update(text).digest('hex'),
        statements: splitStatements(text),
      };
    })
    .sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i += 1) {
    if (migrations[i].version === migrations[i - 1].version) {
      throw new Error(`store: ${migrations[i - 1].file} and ${migrations[i].file} share version ${migrations[i].version}`);
    }
  }
  return migrations;
}

/**
 * One statement per `;` at the end of a line, whole-line `--` comments dropped. Splitting here
 * is what lets every MySQL connection keep multipleStatements off.
 */
export function splitStatements(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => !/^\s*--/.test(line))
    .join('\n')
    .split(/;[ \t]*$/m)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}
