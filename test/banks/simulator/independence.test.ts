import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..', '..');
const SRC = join(ROOT, 'src');
const SIMULATOR = join(SRC, 'banks', 'simulator');

/**
 * What the simulator may import beyond its own folder: generic utilities that know nothing of any
 * bank's protocol, so sharing them cannot make the simulator agree with an adapter's mistake.
 *  - src/time:     the UTC+7 calendar (what "today" is in Jakarta), not a bank's timestamp format;
 *  - src/security: the IP-address normaliser of the source-address whitelist;
 *  - src/log:      the header redaction of the admin endpoint's call log.
 * Everything else under src/ is refused, the adapters (src/banks/bca-legacy, src/banks/snap,
 * src/banks/common) and the types and constants they share (src/banks/*.ts) first of all.
 */
const ALLOWED = ['banks/simulator', 'time', 'security', 'log'].map((folder) => join(SRC, ...folder.split('/')));

function sourceFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The relative imports of a TypeScript file (`import … from './x.js'`, `export … from`, `import('./x.js')`), as .ts paths. */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
  return specifiers.map((specifier) => {
    const target = resolve(dirname(file), specifier).replace(/\.js$/, '.ts');
    return existsSync(target) ? target : join(resolve(dirname(file), specifier), 'index.ts');
  });
}

/** Every file reachable from the simulator's sources, with the chain that reaches it. */
function importGraph(): Map<string, string[]> {
  const reached = new Map<string, string[]>();
  const queue: [string, string[]][] = sourceFiles(SIMULATOR).map((file) => [file, [file]]);
  for (const [file, chain] of queue) reached.set(file, chain);
  while (queue.length > 0) {
    const [file, chain] = queue.shift()!;
    for (const target of relativeImports(file)) {
      if (reached.has(target)) continue;
      reached.set(target, [...chain, target]);
      queue.push([target, [...chain, target]]);
    }
  }
  return reached;
}

const shown = (chain: readonly string[]) => chain.map((file) => relative(ROOT, file)).join(' → ');

describe('the bank simulator as an independent peer', () => {
  it('reaches, through its imports, no adapter module nor anything outside its folder and the generic utilities', () => {
    const graph = importGraph();
    const outside = [...graph.entries()].filter(([file]) => !ALLOWED.some((folder) => file.startsWith(folder + sep)));
    expect(outside.map(([, chain]) => shown(chain))).to.deep.equal([]);
  });

  it('finds the imports it walks (the walk is not empty and follows files into src/time)', () => {
    const graph = importGraph();
    expect(graph.size).to.be.greaterThan(sourceFiles(SIMULATOR).length);
    expect([...graph.keys()].some((file) => file.startsWith(join(SRC, 'time') + sep))).to.equal(true);
  });

  it('would name an adapter module reached through a utility (the check follows imports transitively)', () => {
    // The adapter's own signer imports src/time: the walk from it must reach that file.
    const start = join(SRC, 'banks', 'bca-legacy', 'signer.ts');
    expect(relativeImports(start)).to.include(join(SRC, 'time', 'index.ts'));
  });
});
