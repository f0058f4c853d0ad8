/** Which changed fields the read models count by name (src/domain/overrides/counted-fields.ts). */
import { describe, expect, it } from 'vitest';
import { MAX_COUNTED_FIELDS_PER_FEEDBACK } from '../../../src/domain/model/limits.js';
import { countedFields } from '../../../src/domain/overrides/counted-fields.js';

describe('countedFields', () => {
  it("counts the output's fields by name and folds the others into $other once", () => {
    expect(countedFields(['a', 'invented', 'other', 'total'], { total: 1, a: 2 }, null)).toEqual(['$other', 'a', 'total']);
  });

  it('counts only declared tracked fields when the chain has them', () => {
    expect(countedFields(['total', 'vendor'], { total: 1, vendor: 'x' }, ['vendor'])).toEqual(['$other', 'vendor']);
    expect(countedFields(['vendor'], { vendor: 'x' }, ['vendor'])).toEqual(['vendor']);
    expect(countedFields([], { vendor: 'x' }, ['vendor'])).toEqual([]);
  });

  it('never counts a field named $other by name, and keeps "$" for a whole output', () => {
    expect(countedFields(['$other'], { $other: 1 }, null)).toEqual(['$other']);
    expect(countedFields(['$'], 'text', null)).toEqual(['$']);
  });

  it('counts at most MAX_COUNTED_FIELDS_PER_FEEDBACK output fields by name', () => {
    const names = Array.from({ length: 200 }, (_, i) => `f${String(i).padStart(3, '0')}`);
    const output = Object.fromEntries(names.map((n) => [n, 0]));
    const counted = countedFields(names, output, null);
    expect(counted).toHaveLength(MAX_COUNTED_FIELDS_PER_FEEDBACK + 1);
    expect(counted).toContain('$other');
  });
});
