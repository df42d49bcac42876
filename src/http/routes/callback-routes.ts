import { Router, type RequestHandler } from 'express';
import type { CallbackSigner } from '../../domain/callbacks/index.js';
import { mountRoute, type ApiRoutes } from '../api/index.js';

/** GET /v1/callbacks/public-key — what the ERP verifies callback signatures with. */
export function callbackRoutes(routes: ApiRoutes, signer: CallbackSigner, steps: RequestHandler[]): Router {
  const router = Router();
  mountRoute(router, routes.callbackPublicKey, steps, (_req, res) => {
    res.status(200).json({ keyId: signer.keyId, algorithm: 'RSASSA-PKCS1-v1_5-SHA256', publicKeyPem: signer.publicKeyPem });
  });
  return router;
}
