import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { SECURITY_HEADER_OPTIONS, securityHeadersStep } from '../../src/pipeline/security-headers/index.js';

/** The headers of a JSON answer from an app with `step` alone, as a client reads them (lower-case names). */
async function headersWith(step: RequestHandler): Promise<Record<string, string>> {
  const app = express();
  app.use((_req, res, next) => {
    // As an earlier step or Express itself may have set it: helmet removes it.
    res.setHeader('X-Powered-By', 'Express');
    next();
  });
  app.use(step);
  app.get('/', (_req, res) => {
    res.json({ ok: true });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await res.arrayBuffer();
    const headers = Object.fromEntries(res.headers);
    delete headers.date;
    return headers;
  } finally {
    server.close();
  }
}

describe('security headers step', () => {
  it('sends exactly the headers helmet itself sends with the same options, and removes X-Powered-By', async () => {
    const ours = await headersWith(securityHeadersStep());
    const helmets = await headersWith(helmet(SECURITY_HEADER_OPTIONS));
    expect(ours).to.deep.equal(helmets);
    expect(ours['content-security-policy']).to.contain("default-src 'none'").and.to.contain("frame-ancestors 'none'");
    expect(ours['strict-transport-security']).to.match(/^max-age=\d+/);
    expect(ours).to.not.have.property('x-powered-by');
  });
});
