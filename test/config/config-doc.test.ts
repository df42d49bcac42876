import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configurationMarkdown, SETTINGS } from '../../src/config/index.js';

describe('docs/configuration.md', () => {
  it('is the current output of `gerbang config doc` (regenerate it when a setting changes)', () => {
    const committed = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'configuration.md'), 'utf8');
    expect(committed.trim()).to.equal(configurationMarkdown().trim());
  });

  it('documents every setting', () => {
    const text = configurationMarkdown();
    for (const spec of Object.values(SETTINGS)) expect(text).to.contain(`\`${spec.env}\``);
  });
});
