import { expect } from 'vitest';

/** |actual − expected| ≤ tol·max(|expected|, floor): relative where values are large, absolute near 0. */
export function expectClose(actual: number, expected: number, tol: number, floor = 1e-300): void {
  const scale = Math.max(Math.abs(expected), floor);
  if (!(Math.abs(actual - expected) <= tol * scale)) {
    expect.fail(`expected ${actual} to be within ${tol} (relative, floor ${floor}) of ${expected}`);
  }
}

/** Both ends of an interval within an absolute tolerance. */
export function expectInterval(actual: readonly [number, number], expected: readonly [number, number], tol: number): void {
  expect(Math.abs(actual[0] - expected[0]), `lower ${actual[0]} vs ${expected[0]}`).toBeLessThanOrEqual(tol);
  expect(Math.abs(actual[1] - expected[1]), `upper ${actual[1]} vs ${expected[1]}`).toBeLessThanOrEqual(tol);
}
