import { Router, type RequestHandler } from 'express';
import { NOTIFIED_SERVICES, receiveBankNotification, type BankNotificationDeps, type NotifiedService } from '../../domain/transfers/index.js';

/** The paths banks notify RTGS and SKN final outcomes on (SNAP; bank-apis.md §6), with their service codes. */
const PATHS: Record<NotifiedService, { path: string; serviceCode: string }> = {
  'transfer-rtgs': { path: '/openapi/v1.0/transfer-rtgs/notify', serviceCode: '22' },
  'transfer-skn': { path: '/openapi/v1.0/transfer-skn/notify', serviceCode: '23' },
};

/**
 * POST /openapi/v1.0/transfer-rtgs/notify and …/transfer-skn/notify: the bank's signed
 * notifications. No ERP token (the bank calls them); the bank's signature is the
 * authentication, checked by the use case. The answer is SNAP's: `200` + service code + `00`.
 */
export function bankNotificationRoutes(deps: BankNotificationDeps, body: RequestHandler[]): Router {
  const router = Router();
  for (const service of Object.keys(NOTIFIED_SERVICES) as NotifiedService[]) {
    const { path, serviceCode } = PATHS[service];
    router.post(path, ...body, async (req, res) => {
      const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : '');
      await receiveBankNotification(
        deps,
        service,
        { method: 'POST', path: req.originalUrl, body: res.locals.rawBody?.toString('utf8') ?? '', timestamp: header('x-timestamp'), signature: header('x-signature'), externalId: header('x-external-id') },
        res.locals.audit,
      );
      res.status(200).json({ responseCode: `200${serviceCode}00`, responseMessage: 'Successful' });
    });
  }
  return router;
}
