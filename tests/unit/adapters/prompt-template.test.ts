import { describe, expect, it } from 'vitest';
import { compileTemplate } from '../../../src/adapters/prompt-template.js';

describe('compileTemplate', () => {
  it.each([
    ['Hello {{input.name}}!', { name: 'Ada' }, 'Hello Ada!'],
    ['{{input.a.b.c}}', { a: { b: { c: 'deep' } } }, 'deep'],
    ['{{ input.a }}', { a: 1 }, '1'],
    ['{{input.items.1}}', { items: ['x', 'y'] }, 'y'],
    ['{{input.obj}}', { obj: { k: [1, true] } }, '{"k":[1,true]}'],
    ['[{{input.none}}]', { some: 1 }, '[]'],
    ['[{{input.a.b}}]', { a: 'string, not object' }, '[]'],
    ['{{input.n}}', { n: null }, 'null'],
    ['{{input}}', { a: 1 }, '{"a":1}'],
    ['{{input}}', 'plain text', 'plain text'],
    ['{{input.x}}', 'plain text', ''],
    ['[{{input.constructor}}]', {}, '[]'],
    ['{{ foo }} and {{input.a}} and {{ }}', { a: 'A' }, '{{ foo }} and A and {{ }}'],
    ['{{input.a}}{{input.a}}', { a: 'x' }, 'xx'],
  ])('%s with %j gives %s', (text, input, expected) => {
    expect(compileTemplate(text).fill(input)).toBe(expected);
  });

  it('marks a text without placeholders as constant', () => {
    expect(compileTemplate('You are a helpful extractor. {"json": true}').constant).toBe(true);
    expect(compileTemplate('Doc: {{input.doc}}').constant).toBe(false);
  });

  it('does not re-expand placeholders inside inserted values', () => {
    expect(compileTemplate('{{input.a}}').fill({ a: '{{input.b}}', b: 'no' })).toBe('{{input.b}}');
  });
});
