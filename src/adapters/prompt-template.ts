/**
 * `{{input.field}}` placeholders in a prompt version's messages (README, "Chain versions").
 *
 * - `{{input}}` is the whole input, `{{input.a.b}}` a nested field, `{{input.items.0}}` an array
 *   element; spaces inside the braces are allowed (`{{ input.a }}`).
 * - A string value is inserted as it is; any other value as JSON (`null` as `null`).
 * - A missing field becomes the empty string. The input was accepted when the call arrived, so a
 *   400 here would come too late to be useful, and a prompt with an empty slot is what a template
 *   engine such as Mustache produces too. A chain that needs the field should validate its input.
 * - Anything else in double braces (`{{ foo }}`) is left as written: prompts often show braces.
 * - Only own properties are read, so `{{input.constructor}}` is empty, not a function's source.
 *
 * Templates are compiled once per adapter; filling one is a walk over its parts.
 */
type Part = string | readonly string[];

export interface CompiledTemplate {
  /** True when the text has no placeholder, so the message can be reused as it is. */
  readonly constant: boolean;
  fill(input: unknown): string;
}

const PLACEHOLDER = /\{\{\s*input((?:\.[^.{}\s]+)*)\s*\}\}/g;

export function compileTemplate(text: string): CompiledTemplate {
  const parts: Part[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    const path = match[1] ?? '';
    parts.push(path === '' ? [] : path.slice(1).split('.'));
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  if (parts.every((part) => typeof part === 'string')) {
    return { constant: true, fill: () => text };
  }
  return {
    constant: false,
    fill(input: unknown): string {
      let out = '';
      for (const part of parts) out += typeof part === 'string' ? part : render(lookup(input, part));
      return out;
    },
  };
}

function lookup(input: unknown, path: readonly string[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function render(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? '';
}
