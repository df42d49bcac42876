import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The folder holding package.json, found by walking up from this file: the same answer from
 * src/ (ts) and from dist/src/ (compiled), so `sql/` is found in both.
 */
export function packageRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'sql'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package root (with package.json and sql/) above ${from}`);
    dir = parent;
  }
}
