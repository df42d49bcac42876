import { expect } from 'chai';
import { transferRequestSchema } from '../../src/domain/transfers/index.js';
import { sampleTransfer } from '../support/gateway-harness.js';

describe('transferRequestSchema', () => {
  const check = (beneficiaryBankCode: string, beneficiaryAccountNumber: string) =>
    transferRequestSchema.validate(sampleTransfer({ beneficiaryBankCode, beneficiaryAccountNumber }), { abortEarly: false }).error?.details.map((d) => d.message) ?? [];

  describe("BCA's 10-digit account rule", () => {
    // However the ERP spells BCA, the rule is the bank's: the code is normalised first.
    for (const code of ['014', ' 014', '014 ', 'CENAIDJA', 'cenaidja', 'CenaIdja', 'CENAIDJAXXX', 'cenaidjaxxx']) {
      it(`applies to the bank code ${JSON.stringify(code)}`, () => {
        expect(check(code, '123456789')).to.deep.equal(['"beneficiaryAccountNumber" must be 10 digits for a BCA account']);
        expect(check(code, '0201245681')).to.deep.equal([]);
      });
    }

    it('does not apply to another bank, however spelled', () => {
      for (const code of ['009', ' bninidja ']) expect(check(code, '123456789012'), code).to.deep.equal([]);
    });
  });
});
