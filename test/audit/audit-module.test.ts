import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const SRC = join(__dirname, '..', '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every module a source file imports, as written in its `from '…'`. */
function importsOf(path: string): string[] {
  return [...readFileSync(path, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]);
}

describe('the audit module (src/audit)', () => {
  it('holds the audit trail: the pipeline keeps only its thin audit step', () => {
    expect(readdirSync(join(SRC, 'pipeline', 'audit')).sort()).to.deep.equal(['audit-step.ts', 'index.ts']);
    for (const file of ['audit-trail.ts', 'internal-audit-trail.ts']) expect(readdirSync(join(SRC, 'audit'))).to.include(file);
  });

  it('is what the use cases import, never the pipeline', () => {
    const offenders = sourceFiles(SRC)
      .filter((path) => !relative(SRC, path).startsWith('pipeline/'))
      .filter((path) => importsOf(path).some((from) => from.includes('pipeline/audit/') && relative(SRC, path) !== 'http/app.ts'))
      .map((path) => relative(SRC, path));
    expect(offenders, 'files that import the audit from the pipeline').to.deep.equal([]);
  });
});
