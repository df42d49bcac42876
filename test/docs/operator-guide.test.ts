import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/store/package-root.js';
import { runCli } from '../support/cli.js';

/*
 * The guides may only name commands that exist: every `bin/gerbang <command> [<action>]` they
 * show must be in the real CLI's usage, and every `npm run <script>` in package.json. Lines that
 * say a command is "being added" are exempt (another change brings it).
 */
const DOCS = ['operator-guide.md', 'dynamics-365-guide.md'];

function mentions(markdown: string): { line: number; words: string[] }[] {
  const found: { line: number; words: string[] }[] = [];
  markdown.split('\n').forEach((text, i) => {
    if (/being added/i.test(text)) return;
    for (const match of text.matchAll(/bin\/gerbang((?: [a-z][a-z-]*)+)/g)) found.push({ line: i + 1, words: match[1].trim().split(' ') });
  });
  return found;
}

describe('commands named in the guides', () => {
  let usage: string;
  before(async () => {
    usage = (await runCli(['help'])).stdout;
  });

  for (const doc of DOCS) {
    describe(`docs/${doc}`, () => {
      const markdown = readFileSync(join(packageRoot(), 'docs', doc), 'utf8');

      it('names only bin/gerbang commands and actions the CLI has', () => {
        const named = mentions(markdown);
        if (doc === 'operator-guide.md') expect(named.length).to.be.greaterThan(5);
        for (const { line, words } of named) {
          const [command, action] = words;
          const lines = usage.split('\n').filter((l) => l.startsWith(`gerbang ${command}`));
          expect(lines, `line ${line}: gerbang ${command}`).to.not.be.empty;
          const actions = lines.map((l) => l.split(' ')[2]).filter((w) => w !== undefined && /^[a-z][a-z-]*$/.test(w));
          if (actions.length > 0) expect(actions, `line ${line}: gerbang ${command} ${action ?? ''}`).to.include(action);
        }
      });

      it('names only npm scripts package.json has', () => {
        const scripts = Object.keys((JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
        for (const match of markdown.matchAll(/npm run ([a-z:-]+)/g)) expect(scripts, match[0]).to.include(match[1]);
      });
    });
  }
});
