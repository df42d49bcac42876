/**
 * Why a bank call failed, with whether the request may have reached the bank. `sent: false`
 * means certainly not (safe to report "not sent"); `sent: true` means it may have been
 * processed, so a transfer is in doubt and must never be re-sent blindly.
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
