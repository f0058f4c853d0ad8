/**
 * The request and response schemas the OpenAPI document shows once, under components/schemas,
 * and references everywhere else. fastify-type-provider-zod turns a schema with an `id` in zod's
 * global registry into a `$ref` (its README: "How to create refs to the schemas?"); the ids are
 * given here, in one place, so the schema files stay about validation. Metadata a schema already
 * has (a `.describe()`) is kept.
 */
import { z } from 'zod';
import { adapterDefinitionSchema, httpAdapterDefinitionSchema, openaiAdapterDefinitionSchema } from '../../adapters/adapter-definition.js';
import { guardrailSchema, rolloutSpecSchema, stageSchema } from '../../domain/model/rollout-spec.js';
import { redactionConfigSchema } from '../../redaction/redaction.js';
import { chainSchema, createdKeySchema, tenantSchema, versionSchema } from '../schemas/catalog.js';
import { errorResponseSchema } from '../schemas/common.js';
import { comparisonSchema, guardrailCheckSchema, timeseriesSchema } from '../schemas/comparison.js';
import { planAnswerSchema, planRequestSchema } from '../schemas/plan.js';
import { eventSchema, rolloutSchema } from '../schemas/rollouts.js';
import { feedbackResponse, invokeBody, invokeErrorResponse, invokeResponse, runSchema } from '../schemas/runs.js';

/** Component name → schema. A request schema appears as `<name>` too (see document.ts). */
export const COMPONENT_SCHEMAS: Record<string, z.ZodType> = {
  Error: errorResponseSchema,
  Tenant: tenantSchema,
  CreatedKey: createdKeySchema,
  Chain: chainSchema,
  ChainVersion: versionSchema,
  Adapter: adapterDefinitionSchema,
  HttpAdapter: httpAdapterDefinitionSchema,
  OpenAIAdapter: openaiAdapterDefinitionSchema,
  Redaction: redactionConfigSchema,
  InvokeRequest: invokeBody,
  InvokeResponse: invokeResponse,
  InvokeError: invokeErrorResponse,
  Run: runSchema,
  FeedbackResult: feedbackResponse,
  RolloutSpec: rolloutSpecSchema,
  Stage: stageSchema,
  Guardrail: guardrailSchema,
  Rollout: rolloutSchema,
  RolloutEvent: eventSchema,
  Comparison: comparisonSchema,
  GuardrailCheck: guardrailCheckSchema,
  Timeseries: timeseriesSchema,
  PlanRequest: planRequestSchema,
  Plan: planAnswerSchema,
};

let registered = false;

/** Gives each component schema its id in zod's global registry (idempotent). */
export function registerComponentSchemas(): void {
  if (registered) return;
  registered = true;
  for (const [id, schema] of Object.entries(COMPONENT_SCHEMAS)) {
    z.globalRegistry.add(schema, { ...(z.globalRegistry.get(schema) ?? {}), id });
  }
}
