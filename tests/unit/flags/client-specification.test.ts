/**
 * The shared Unleash client specification (@unleash/client-specification), run through the
 * engine the embedded store evaluates with (UnleashEngine: unleash-client fed from memory).
 * Every file runs, including features our flags never use (segments, dependencies, semver...),
 * since the engine is unleash-client's own and supports them.
 *
 * The two delta-API files (19, 20) describe their state as a list of delta events, the wire
 * format of streaming/delta polling. The engine takes a whole state, so those events are folded
 * into one here, as unleash-client's repository does (repository/index.ts applyFeatureResponse).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Context } from 'unleash-client';
import { afterAll, describe, expect, it } from 'vitest';
import { UnleashEngine, type EngineState } from '../../../src/flags/unleash-engine.js';

interface SpecTest {
  description: string;
  context: Context;
  toggleName: string;
  expectedResult: boolean;
}
interface SpecVariantTest {
  description: string;
  context: Context;
  toggleName: string;
  expectedResult: Record<string, unknown>;
}
interface DeltaEvent {
  type: string;
  features?: Array<Record<string, unknown>>;
  feature?: Record<string, unknown>;
  featureName?: string;
  segments?: Array<{ id: number; constraints: unknown[] }>;
  segment?: { id: number; constraints: unknown[] };
  segmentId?: number;
}
interface Spec {
  name: string;
  state: { features?: Array<Record<string, unknown>>; segments?: Array<{ id: number; constraints: unknown[] }>; events?: DeltaEvent[] };
  tests?: SpecTest[];
  variantTests?: SpecVariantTest[];
}

const require = createRequire(import.meta.url);
const specDir = join(dirname(require.resolve('@unleash/client-specification/package.json')), 'specifications');
const files = JSON.parse(readFileSync(join(specDir, 'index.json'), 'utf8')) as string[];

function stateOf(spec: Spec): EngineState {
  if (!spec.state.events) return { features: spec.state.features ?? [], segments: spec.state.segments ?? [] };
  const features = new Map<string, Record<string, unknown>>();
  const segments = new Map<number, { id: number; constraints: unknown[] }>();
  for (const e of spec.state.events) {
    if (e.type === 'hydration') {
      features.clear();
      segments.clear();
      for (const f of e.features ?? []) features.set(String(f.name), f);
      for (const s of e.segments ?? []) segments.set(s.id, s);
    } else if (e.type === 'feature-updated' && e.feature) features.set(String(e.feature.name), e.feature);
    else if (e.type === 'feature-removed' && e.featureName) features.delete(e.featureName);
    else if (e.type === 'segment-updated' && e.segment) segments.set(e.segment.id, e.segment);
    else if (e.type === 'segment-removed' && e.segmentId !== undefined) segments.delete(e.segmentId);
    else throw new Error(`unknown delta event ${e.type} in ${spec.name}`);
  }
  return { features: [...features.values()], segments: [...segments.values()] };
}

const engines: UnleashEngine[] = [];
afterAll(() => engines.forEach((e) => e.destroy()));

it('finds the specification files', () => {
  expect(files.length).toBeGreaterThanOrEqual(22);
});

for (const file of files) {
  const spec = JSON.parse(readFileSync(join(specDir, file), 'utf8')) as Spec;
  describe(file, () => {
    const engine = new UnleashEngine({ appName: 'client-specification', state: stateOf(spec) });
    engines.push(engine);

    for (const t of spec.tests ?? []) {
      it(t.description, () => {
        expect(engine.isEnabled(t.toggleName, t.context)).toBe(t.expectedResult);
      });
    }

    for (const t of spec.variantTests ?? []) {
      it(`variant: ${t.description}`, () => {
        const actual = engine.getVariant(t.toggleName, t.context) as unknown as Record<string, unknown>;
        // The SDK adds featureEnabled (camelCase) beside feature_enabled; compare what the spec states.
        const compared = Object.fromEntries(Object.keys(t.expectedResult).map((k) => [k, actual[k]]));
        expect(compared).toEqual(t.expectedResult);
      });
    }
  });
}
