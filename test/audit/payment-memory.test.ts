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

  it('grows a few slots a call (the old table still read), every key exact at every call of the growth: found, overwritten or forgotten', () => {
    const memory = new PaymentMemory();
    const key = (i: number) => [`gbc_${i % 5}`, `INV-${i}`] as const;
    const expected = new Map<number, number>();
    let i = 0;
    // Up to the call that starts the table's first growth (4,096 slots, 70 % full).
    while (!memory.growing && i < 10_000) {
      i += 1;
      memory.remember(...key(i), i, 0);
      expected.set(i, i);
    }
    expect(memory.growing, 'the table grows over the calls that follow, not inside one').to.equal(true);
    const startedAt = i;
    let calls = 0;
    // Through the growth: new keys, keys written again (a newer payment) and keys forgotten, each checked at once and all every 64 calls.
    while (memory.growing) {
      calls += 1;
      const step = calls % 3;
      if (step === 0) {
        i += 1;
        memory.remember(...key(i), i, 0);
        expected.set(i, i);
      } else if (step === 1) {
        const again = 1 + ((calls * 7919) % startedAt);
        memory.remember(...key(again), 100_000 + calls, 0);
        expected.set(again, 100_000 + calls);
      } else {
        const gone = 1 + ((calls * 104_729) % startedAt);
        const id = expected.get(gone);
        if (id !== undefined) memory.forget(...key(gone), id);
        expected.delete(gone);
      }
      if (calls % 64 === 0) for (let k = 1; k <= i; k += 1) expect(memory.recall(...key(k))?.id ?? null, `key ${k} at call ${calls} of the growth`).to.equal(expected.get(k) ?? null);
    }
    // The old table (4,096 slots) moved 8 slots a call: 512 calls, none copying the whole table.
    expect(calls).to.equal(4_096 / 8);
    for (let k = 1; k <= i; k += 1) expect(memory.recall(...key(k))?.id ?? null, `key ${k} after the growth`).to.equal(expected.get(k) ?? null);
    expect(memory.size).to.equal(expected.size);
  });
});
