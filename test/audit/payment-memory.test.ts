import { expect } from 'chai';
import { PaymentMemory } from '../../src/audit/payment-memory.js';

/**
 * The audit scrub's memory of payments (its open-addressing table): every key remembered is found
 * again, whatever was forgotten around it and however often the table grew, and a key is forgotten
 * only for the payment it names.
 */
describe('PaymentMemory', () => {
  it('recalls every key among 50,000 after half were forgotten (backward-shift deletion across growth), and nothing forgotten', () => {
    const memory = new PaymentMemory();
    const key = (i: number) => [`gbc_${i % 7}`, `INV-${i}`] as const;
    for (let i = 1; i <= 50_000; i += 1) memory.remember(...key(i), i, 0);
    expect(memory.size).to.equal(50_000);
    for (let i = 1; i <= 50_000; i += 2) memory.forget(...key(i), i);
    expect(memory.size).to.equal(25_000);
    for (let i = 1; i <= 50_000; i += 1) expect(memory.recall(...key(i))?.id ?? null, `key ${i}`).to.equal(i % 2 === 0 ? i : null);
    // 20 bytes a slot, the table at most 70 % full.
    expect(memory.bytes).to.be.at.most(Math.ceil(50_000 / 0.35) * 20 * 2);
  });

  it('keeps the newer payment of a key, its creation stamp, and forgets a key only for the payment it names', () => {
    const memory = new PaymentMemory();
    memory.remember('gbc_a', 'INV-1', 10, 1_700_000_000_000);
    memory.remember('gbc_a', 'INV-1', 11, 1_700_000_000_001);
    // The stamp: its creation time modulo 2^32 ms.
    expect(memory.recall('gbc_a', 'INV-1')).to.deep.equal({ id: 11, stamp: 1_700_000_000_001 % 2 ** 32 });
    memory.forget('gbc_a', 'INV-1', 10);
    expect(memory.recall('gbc_a', 'INV-1')?.id).to.equal(11);
    // Keys that concatenate alike are different keys.
    memory.remember('gbc_ab', 'c', 12, 0);
    expect(memory.recall('gbc_a', 'bc')).to.equal(null);
    memory.forget('gbc_a', 'INV-1', 11);
    expect(memory.recall('gbc_a', 'INV-1')).to.equal(null);
    expect(memory.size).to.equal(1);
  });
});
