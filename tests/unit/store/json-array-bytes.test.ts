/** jsonArrayBytes: the batch's JSON array written into one buffer is byte for byte jsonArray's UTF-8. */
import { describe, expect, it } from 'vitest';
import { jsonArray, jsonArrayBytes } from '../../../src/store/json-recordset.js';

describe('jsonArrayBytes', () => {
  const cases: Record<string, string[]> = {
    none: [],
    one: ['{"a":1}'],
    several: ['{"a":1}', '"x"', '[1,2,3]', 'null'],
    'beyond ASCII': [JSON.stringify({ t: 'Zoë, Straße, 東京' }), JSON.stringify({ e: '🎉 \u2028 \\ "q"' })],
    // Past Buffer's pool size, so the buffer is its own allocation rather than a slice.
    large: Array.from({ length: 400 }, (_, i) => JSON.stringify({ i, text: 'ü'.repeat(i % 37) })),
  };
  for (const [name, items] of Object.entries(cases)) {
    it(`equals the UTF-8 of jsonArray (${name})`, () => {
      const bytes = jsonArrayBytes(items);
      expect(bytes.equals(Buffer.from(jsonArray(items), 'utf8'))).toBe(true);
      expect(JSON.parse(bytes.toString('utf8'))).toEqual(items.map((s) => JSON.parse(s) as unknown));
    });
  }
});
