import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The folder holding Gerbang's package.json and sql/, found by walking up from this file: the
 * same code runs from src/store (ts-node, editors) and from dist/src/store (compiled), and a
 * compiled tree may hold a copied package.json of its own, hence the check for sql/ as well.
 */
export function packageRoot(start: string = __dirname): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'sql'))) return dir;
    if (dirname(dir) === dir) throw new Error(`store: no package root (package.json next to sql/) above ${start}`);
  }
}

/** Gerbang's version, from its package.json (`gerbang --version`, the build_info metric). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
