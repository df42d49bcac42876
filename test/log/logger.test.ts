import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { getLogger } from '../../src/log/index.js';
import { captureLogs } from '../support/log-capture.js';

describe('getLogger', () => {
  let logs: ReturnType<typeof captureLogs>;
  beforeEach(() => {
    logs = captureLogs('info');
  });
  afterEach(() => logs.stop());

  describe('when a line holds secret keys at the top level, one level down or in req.headers', () => {
    it('writes each of their values as [REDACTED], in any case, and leaves the rest and the caller\'s object alone', () => {
      const error = Object.assign(new Error('refused'), { client_secret: 'S3CRET-ERR' });
      const logged = {
        token: 'S3CRET-TOP',
        Password: 'S3CRET-CASE',
        headers: { Authorization: 'Bearer S3CRET-HDR', accept: 'application/json' },
        body: { client_secret: 'S3CRET-BODY', amount: '1.00' },
        req: { url: '/v1/transfers', headers: { 'x-api-key': 'S3CRET-REQ', host: 'gw' } },
        err: error,
      };
      getLogger('test').info(logged, 'seen');
      const line = JSON.parse(logs.lines.at(-1)!);
      expect(logs.text()).not.to.match(/S3CRET/);
      expect(line).to.deep.include({ token: '[REDACTED]', Password: '[REDACTED]', component: 'test', msg: 'seen' });
      expect(line.headers).to.deep.equal({ Authorization: '[REDACTED]', accept: 'application/json' });
      expect(line.body).to.deep.equal({ client_secret: '[REDACTED]', amount: '1.00' });
      expect(line.req).to.deep.equal({ url: '/v1/transfers', headers: { 'x-api-key': '[REDACTED]', host: 'gw' } });
      // The error is still serialised as one (its message and stack kept), its secret property redacted.
      expect(line.err).to.include({ type: 'Error', message: 'refused', client_secret: '[REDACTED]' });
      expect(line.err.stack).to.match(/^Error: refused/);
      expect(logged.headers.Authorization).to.equal('Bearer S3CRET-HDR');
      expect(logged.req.headers['x-api-key']).to.equal('S3CRET-REQ');
      expect(error.client_secret).to.equal('S3CRET-ERR');
    });
  });

  describe('when a logger is bound to a secret', () => {
    it('writes the binding as [REDACTED]', () => {
      getLogger('test').child({ access_token: 'S3CRET-BOUND' }).info('bound');
      expect(logs.text()).to.include('"access_token":"[REDACTED]"').and.not.include('S3CRET');
    });
  });

  describe('when the process is killed right after logging', () => {
    it('has written every line it logged to stdout already', () => {
      // Three lines, then SIGKILL in the same turn: nothing queued for later can be written.
      const script = `const log = require(${JSON.stringify(join(__dirname, '..', '..', 'src', 'log', 'index.js'))}).getLogger('test');
        for (let i = 1; i <= 3; i += 1) log.info({ i }, 'line');
        process.kill(process.pid, 'SIGKILL');`;
      const run = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, GERBANG_LOG_LEVEL: 'info' }, encoding: 'utf8' });
      expect(run.signal).to.equal('SIGKILL');
      expect(run.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { i: number }).i)).to.deep.equal([1, 2, 3]);
    });
  });
});
