/**
 * Why a bank call failed, with whether the request may have reached the bank. Callers match on
 * `code` and decide on `sent`:
 * - `BANK_CONNECT_FAILED` (sent=false): refused, DNS, connect timeout, TLS failure, proxy tunnel
 *   refused. No byte of the request left this machine, so it is safe to report "not sent".
 * - `BANK_TIMEOUT` (sent=true): the headers or the body did not arrive in time after sending.
 * - `BANK_CONNECTION_RESET` (sent=true): the socket failed after the request was handed to it.
 * - `BANK_RESPONSE_TOO_LARGE` (sent=true): the bank answered more than maxResponseBytes.
 * `sent: true` means "may have been processed": a transfer is in doubt and is never re-sent blindly.
 */
export type EgressErrorCode = 'BANK_CONNECT_FAILED' | 'BANK_TIMEOUT' | 'BANK_CONNECTION_RESET' | 'BANK_RESPONSE_TOO_LARGE';

export class EgressError extends Error {
  readonly code: EgressErrorCode;
  readonly sent: boolean;

  constructor(code: EgressErrorCode, sent: boolean, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EgressError';
    this.code = code;
    this.sent = sent;
  }
}

export function isEgressError(error: unknown): error is EgressError {
  return error instanceof EgressError;
}
