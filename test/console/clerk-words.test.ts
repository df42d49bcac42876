import { expect } from 'chai';
import { bankRefusalText } from '../../src/console/bank-messages.js';
import { formatWhen, parseTypedDay } from '../../src/console/format.js';

describe('the console in the clerk’s words', () => {
  describe('bankRefusalText()', () => {
    it('reads a SNAP code by its HTTP status and case, whatever the service', () => {
      expect(bankRefusalText('id', '4031814', 'Insufficient Funds')).to.equal('Saldo tidak cukup (4031814)');
      expect(bankRefusalText('id', '4031714', 'Insufficient Funds')).to.equal('Saldo tidak cukup (4031714)');
      expect(bankRefusalText('en', '4031814', 'whatever the bank wrote')).to.equal('Insufficient funds (4031814)');
    });

    it('prefers BCA’s own Indonesian text on an Indonesian page, and falls back to the bank’s message for an unknown code', () => {
      expect(bankRefusalText('id', 'ESB-82-019', 'Insufficient funds', 'Saldo Anda kurang')).to.equal('Saldo Anda kurang (ESB-82-019)');
      expect(bankRefusalText('en', 'ESB-82-019', 'Insufficient funds', 'Saldo Anda kurang')).to.equal('Insufficient funds (ESB-82-019)');
      expect(bankRefusalText('id', 'ESB-82-019', null)).to.equal('Saldo tidak cukup (ESB-82-019)');
      expect(bankRefusalText('id', 'XYZ-1', 'Something odd')).to.equal('Something odd (XYZ-1)');
      expect(bankRefusalText('id', null, null)).to.equal(null);
    });
  });

  describe('formatWhen()', () => {
    it('writes Jakarta time day first with WIB, a dot between hours and minutes in Indonesian', () => {
      const at = Date.parse('2026-11-25T07:03:07Z');
      expect(formatWhen('id', at)).to.equal('25 Nov 2026 14.03 WIB');
      expect(formatWhen('id', at, true)).to.equal('25 Nov 2026 14.03.07 WIB');
      expect(formatWhen('en', Date.parse('2026-12-31T17:30:00Z'))).to.equal('1 Jan 2027 00:30 WIB');
      expect(formatWhen('id', Date.parse('2026-08-17T01:00:00Z'))).to.equal('17 Agu 2026 08.00 WIB');
    });
  });

  describe('parseTypedDay()', () => {
    it('takes dd/mm/yyyy (and the ISO form), and refuses a day that does not exist', () => {
      expect(parseTypedDay('25/11/2026')).to.equal('2026-11-25');
      expect(parseTypedDay('5-1-2026')).to.equal('2026-01-05');
      expect(parseTypedDay('2026-11-25')).to.equal('2026-11-25');
      expect(parseTypedDay('31/02/2026')).to.equal(null);
      expect(parseTypedDay('11/25/2026')).to.equal(null);
      expect(parseTypedDay('tomorrow')).to.equal(null);
    });
  });
});
