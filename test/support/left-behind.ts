import { expect } from 'chai';
import { request } from 'undici';
import { requestHash } from '../../src/domain/transfers/request-hash.js';
import { transferRequestSchema, type TransferRequest } from '../../src/domain/transfers/transfer-schema.js';
import type { PaymentRecord } from '../../src/store/types.js';
import { jakartaDate } from '../../src/time/index.js';
import type { HttpAnswer, TestGateway } from './gateway-harness.js';
import { captureLogs } from './log-capture.js';

/**
 * A reservation of `body` left RECEIVED at `at` (a minute ago) by a gateway process that stopped
 * right after reserving it (before routing it): made through the store, as that process would have left it.
 */
export async function leaveBehind(gw: TestGateway, clientId: string, body: Record<string, unknown>, at = Date.now() - 60_000): Promise<PaymentRecord> {
  const validated = transferRequestSchema.validate(body).value as TransferRequest;
  return gw.store.payments.reserve(
    { clientId, transactionId: validated.transactionId, requestHash: requestHash(validated), amount: validated.amount, currency: validated.currency, sourceAccount: validated.sourceAccountNumber },
    at,
  );
}

/** Transfers of `transactionId` the gateway's simulator received, as its own admin endpoint lists them (over HTTP). */
export async function bankTransfers(gw: TestGateway, transactionId: string): Promise<number> {
  const res = await request(`${gw.gateway.banks.simulator!.url}/_simulator/calls`);
  const calls = (await res.body.json()) as { path: string; body: string }[];
  return calls.filter((call) => call.path.startsWith('/banking/corporates/transfers') && call.body.includes(transactionId)).length;
}

/**
 * The bank executes the transfer of `body` under its transactionId today, outside any record of
 * Gerbang's (what a process that sent it and stopped before recording so would have left): sent by
 * the paying partner's adapter to the gateway's simulator over HTTP. Its statement then carries the debit.
 */
export async function executeAtTheBank(gw: TestGateway, body: Record<string, unknown>): Promise<void> {
  const partner = gw.gateway.banks.router.all().find((p) => p.accounts.includes(body.sourceAccountNumber as string))!;
  const outcome = await partner.adapter.transferIntrabank(
    {
      bankTransactionId: String(10_000_000 + Math.floor(Math.random() * 89_999_999)),
      transactionDate: jakartaDate(Date.now()),
      referenceId: body.transactionId as string,
      sourceAccountNumber: body.sourceAccountNumber as string,
      beneficiaryAccountNumber: body.beneficiaryAccountNumber as string,
      amount: body.amount as string,
      currency: 'IDR',
      remark1: '',
      remark2: '',
    },
    { onCall: async () => undefined },
  );
  expect(outcome.status, JSON.stringify(outcome)).to.equal('SUCCESS');
}

/**
 * The ERP's resend of `body` to `gw`, and the error line logged for its transactionId (a refusal
 * to take it over names there what does not hold: `where`), if any.
 */
export async function resendLogged(gw: TestGateway, body: Record<string, unknown>, headers: Record<string, string>): Promise<{ answer: HttpAnswer; refusal?: { msg: string; where?: string } }> {
  const logs = captureLogs('error');
  let answer: HttpAnswer;
  try {
    answer = await gw.request('/v1/transfers', { json: body, headers });
  } finally {
    logs.stop();
  }
  const [refusal] = logs.lines.map((line) => JSON.parse(line) as { msg: string; transactionId?: string; where?: string }).filter((line) => line.transactionId === body.transactionId);
  return { answer, refusal };
}
