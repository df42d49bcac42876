import { expect } from 'chai';
import { accountInquiryRequestSchema } from '../../src/domain/accounts/index.js';
import { accountNumberRule, bankName, canonicalBic } from '../../src/domain/routing/index.js';
import { transferRequestSchema } from '../../src/domain/transfers/index.js';
import { sampleTransfer } from '../support/gateway-harness.js';

describe('transferRequestSchema', () => {
  const check = (beneficiaryBankCode: string, beneficiaryAccountNumber: string) =>
    transferRequestSchema.validate(sampleTransfer({ beneficiaryBankCode, beneficiaryAccountNumber }), { abortEarly: false }).error?.details.map((d) => d.message) ?? [];

  describe("each bank's account-number rule, whatever spelling of its code", () => {
    // However the ERP spells the bank, the rule is the bank's: the code is normalised first.
    const rules: [string, string[], number][] = [
      ['Bank Central Asia', ['014', ' 014', '014 ', 'CENAIDJA', 'cenaidja', 'CenaIdja', 'CENAIDJAXXX', 'cenaidjaxxx'], 10],
      ['Bank Rakyat Indonesia', ['002', ' 002', 'BRINIDJA', 'brinidja', 'BRINIDJAXXX'], 15],
      ['Bank Mandiri', ['008', 'BMRIIDJA', ' bmriidja '], 13],
      ['Bank Negara Indonesia', ['009', 'bninidja'], 10],
    ];
    for (const [bank, codes, digits] of rules) {
      for (const code of codes) {
        it(`${bank}: ${digits} digits for the bank code ${JSON.stringify(code)}`, () => {
          expect(check(code, '1'.repeat(digits - 1))).to.deep.equal([`"beneficiaryAccountNumber" must be ${digits} digits for a ${bank} account`]);
          expect(check(code, '1'.repeat(digits + 1))).to.deep.equal([`"beneficiaryAccountNumber" must be ${digits} digits for a ${bank} account`]);
          expect(check(code, '1'.repeat(digits))).to.deep.equal([]);
        });
      }
    }

    it('leaves other banks to 5 to 34 digits, however spelled', () => {
      for (const code of ['542', ' atosidj1 ', '536', 'SYCAIDJ1']) {
        expect(check(code, '123456789012'), code).to.deep.equal([]);
        expect(check(code, '1234'), code).to.deep.equal(['"beneficiaryAccountNumber" must be 5 to 34 digits']);
      }
    });

    it('applies to account inquiries too', () => {
      const { error } = accountInquiryRequestSchema.validate({ beneficiaryBankCode: 'brinidja', beneficiaryAccountNumber: '0201245681' });
      expect(error?.message).to.equal('"beneficiaryAccountNumber" must be 15 digits for a Bank Rakyat Indonesia account');
    });
  });

  describe("Bank Indonesia's list of banks", () => {
    it('knows Bank Jago (542) and BCA Syariah (536) by code and by BIC, with their names', () => {
      expect(canonicalBic('542')).to.equal('ATOSIDJ1');
      expect(canonicalBic(' atosidj1')).to.equal('ATOSIDJ1');
      expect(canonicalBic('536')).to.equal('SYCAIDJ1');
      expect(canonicalBic('SYCAIDJ1XXX')).to.equal('SYCAIDJ1');
      expect(bankName('542')).to.equal('Bank Jago');
      expect(bankName('SYCAIDJ1')).to.equal('Bank BCA Syariah');
      expect(accountNumberRule('542')).to.equal(null);
    });

    it('takes a transfer to either of them', () => {
      for (const code of ['542', 'ATOSIDJ1', '536', 'sycaidj1']) expect(check(code, '100200300400'), code).to.deep.equal([]);
    });

    it("names a sharia unit's parent by the shared code and the unit by its own BIC", () => {
      expect(canonicalBic('022')).to.equal('BNIAIDJA');
      expect(canonicalBic('SYNAIDJ1')).to.equal('SYNAIDJ1');
    });

    it('refuses an unknown bank code, naming the field', () => {
      expect(check('999', '100200300400')).to.deep.equal(['"beneficiaryBankCode" must be a known 3-digit bank code or BIC']);
      expect(check('XXXXIDJA', '100200300400')).to.deep.equal(['"beneficiaryBankCode" must be a known 3-digit bank code or BIC']);
    });
  });
});
