/**
 * The baseline Gerbang is compared with: the plainest reverse proxy on the same stack, Express 5
 * receiving and undici forwarding to the bank, nothing else (no security stage, no audit).
 * Usage: node dist/test/load/proxy-baseline.js <upstream origin>; prints its URL.
 */
import express from 'express';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const upstream = process.argv[2];
const pool = new Pool(upstream, { connections: 16, keepAliveTimeout: 4_000 });
const app = express();
app.use(express.raw({ type: () => true, limit: '64kb' }));
app.use(async (req, res) => {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string' && !['host', 'connection', 'content-length', 'transfer-encoding'].includes(name)) headers[name] = value;
  }
  const body = Buffer.isBuffer(req.body) && req.body.length > 0 ? req.body : undefined;
  const answer = await pool.request({ method: req.method as 'GET' | 'POST', path: req.originalUrl, headers, body });
  const text = await answer.body.text();
  res.status(answer.statusCode);
  const type = answer.headers['content-type'];
  if (typeof type === 'string') res.setHeader('content-type', type);
  res.send(text);
});
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => {
  server.close();
  void pool.close();
});
