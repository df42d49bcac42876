import { expect } from 'chai';
import { requestHash } from '../../../src/domain/transfers/request-hash.js';
import { transferRequestSchema, type TransferRequest } from '../../../src/domain/transfers/transfer-schema.js';

/** A valid transfer with every field present. */
const FULL: TransferRequest = {
  transactionId: 'INV-0001',
  sourceAccountNumber: '0201245680',
  beneficiaryBankCode: 'BRINIDJA',
  beneficiaryAccountNumber: '123456789012345',
  beneficiaryName: 'PT Vendor Jaya',
  beneficiaryEmail: 'ap@vendorjaya.co.id',
  beneficiaryAddress: 'Jl. Gatot Subroto 10, Jakarta',
  amount: '2475000.00',
  currency: 'IDR',
  remark: 'Invoice 0001',
  transferMethod: 'BIFAST',
  beneficiaryCustomerType: 'COMPANY',
  beneficiaryResident: true,
  purposeCode: '99',
};

/** Another valid value for each field (currency has only one: it cannot change). */
const CHANGED: { [K in keyof TransferRequest]-?: TransferRequest[K] | null } = {
  transactionId: 'INV-0002',
  sourceAccountNumber: '0201245681',
  // Bank Jago: no fixed length, so the unchanged 15-digit number stays valid with it (and BRI's stays valid with the changed number).
  beneficiaryBankCode: 'ATOSIDJ1',
  beneficiaryAccountNumber: '123456789012346',
  beneficiaryName: 'PT Vendor Jaya Abadi',
  beneficiaryEmail: 'finance@vendorjaya.co.id',
  beneficiaryAddress: 'Jl. Sudirman 1, Jakarta',
  amount: '2475000.01',
  currency: null,
  remark: 'Invoice 0002',
  transferMethod: 'ONLINE',
  beneficiaryCustomerType: 'PERSON',
  beneficiaryResident: false,
  purposeCode: '03',
};

/** Fields the API once filled in when absent; payments stored then were fingerprinted with these values. */
const FORMER_DEFAULTS: Partial<Record<keyof TransferRequest, unknown>> = { beneficiaryCustomerType: 'COMPANY', beneficiaryResident: true };

describe('requestHash (the idempotency fingerprint of a transfer)', () => {
  it('the fixtures are valid transfers and name every field of the schema', () => {
    const fields = Object.keys(transferRequestSchema.describe().keys ?? {}).sort();
    expect(Object.keys(FULL).sort()).to.deep.equal(fields);
    expect(Object.keys(CHANGED).sort()).to.deep.equal(fields);
    expect(transferRequestSchema.validate(FULL).error).to.equal(undefined);
  });

  for (const field of Object.keys(CHANGED) as (keyof TransferRequest)[]) {
    const other = CHANGED[field];
    if (other === null) continue;
    it(`changes when ${field} changes`, () => {
      const changed = { ...FULL, [field]: other } as TransferRequest;
      expect(transferRequestSchema.validate(changed).error, `${field} fixture is valid`).to.equal(undefined);
      expect(requestHash(changed)).to.not.equal(requestHash(FULL));
    });
    if (!(field in FORMER_DEFAULTS) && (transferRequestSchema.extract(field).describe().flags as { presence?: string } | undefined)?.presence !== 'required') {
      it(`changes when ${field} is left out`, () => {
        const { [field]: _left, ...rest } = FULL;
        expect(requestHash(rest as TransferRequest)).to.not.equal(requestHash(FULL));
      });
    }
  }

  for (const [field, former] of Object.entries(FORMER_DEFAULTS)) {
    it(`fingerprints ${field} left out as its former default (${String(former)}), so a payment stored when the API filled it in still matches its resend`, () => {
      const { [field as keyof TransferRequest]: _left, ...rest } = FULL;
      expect(FULL[field as keyof TransferRequest]).to.equal(former);
      expect(requestHash(rest as TransferRequest)).to.equal(requestHash(FULL));
      expect(requestHash(rest as TransferRequest)).to.not.equal(requestHash({ ...FULL, [field]: CHANGED[field as keyof TransferRequest] } as TransferRequest));
    });
  }

  it('does not depend on the order of the fields', () => {
    const reversed = Object.fromEntries(Object.entries(FULL).reverse()) as unknown as TransferRequest;
    expect(requestHash(reversed)).to.equal(requestHash(FULL));
  });
});
