import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/store/package-root.js';

/**
 * The committed API documents pass Spectral (@stoplight/spectral-cli), the linter API
 * integrators run on what they import, with its `spectral:oas` ruleset (.spectral.yaml): no
 * error in either. Warnings that only an installation can settle (its host and servers, set
 * by GERBANG_PUBLIC_URL) are allowed.
 */
describe('docs/api/openapi.json and swagger.json under Spectral (spectral:oas)', function () {
  this.timeout(120_000);

  it('have zero errors', async () => {
    const root = packageRoot();
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        join(root, 'node_modules', '.bin', 'spectral'),
        ['lint', 'docs/api/openapi.json', 'docs/api/swagger.json', '--ruleset', '.spectral.yaml', '--format', 'json', '--fail-severity', 'error'],
        { cwd: root, maxBuffer: 10 * 1024 * 1024 },
        (error, stdout, stderr) => (error && !stdout.trim().startsWith('[') ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
      );
    });
    const results = JSON.parse(output.slice(output.indexOf('['))) as { code: string; severity: number; message: string; source: string; path: string[] }[];
    const errors = results.filter((result) => result.severity === 0);
    expect(errors.map((e) => `${e.source}: ${e.code} ${e.path.join('.')} ${e.message}`)).to.deep.equal([]);
    const allowed = ['oas3-api-servers', 'oas2-api-host'];
    expect(results.filter((result) => !allowed.includes(result.code)).map((r) => `${r.code} ${r.message}`)).to.deep.equal([]);
  });
});
