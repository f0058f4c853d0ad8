/**
 * The prompt-version adapter: fills the version's messages from the input and calls Chat
 * Completions through the official `openai` SDK, on OpenAI or on Azure OpenAI.
 *
 * The client is built once per adapter (one per version) with the version's timeout and retry
 * count. Provider settings come in as a parameter, never from process.env here: every setting the
 * SDK would otherwise read from the environment when left undefined is passed explicitly, so what
 * runs is what the gateway's validated config says.
 */
import { performance } from 'node:perf_hooks';
import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError, AzureOpenAI } from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { UpstreamError } from '../domain/model/errors.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../domain/overrides/json-value.js';
import type { ChainAdapter, ChainResult, ChainUsage } from '../domain/ports/chain-adapter.js';
import type { OpenAIAdapterDefinition } from './adapter-definition.js';
import {
  DEFAULT_AZURE_API_VERSION,
  DEFAULT_OPENAI_BASE_URL,
  providerProblem,
  type OpenAIAdapterOptions,
  type OpenAIProviderSettings,
} from './openai-provider.js';
import { compileTemplate, type CompiledTemplate } from './prompt-template.js';
import { abortedByCaller, classifyTransportError, excerpt } from './upstream-errors.js';

interface Message {
  role: OpenAIAdapterDefinition['messages'][number]['role'];
  template: CompiledTemplate;
  /** The message itself when it has no placeholder, built once. */
  fixed: ChatCompletionMessageParam | undefined;
}

export class OpenAIChainAdapter implements ChainAdapter {
  readonly #client: OpenAI | undefined;
  /** Why no client could be built (a missing key): every call fails with it, clearly. */
  readonly #configError: string | undefined;
  readonly #def: OpenAIAdapterDefinition;
  readonly #messages: readonly Message[];
  readonly #responseFormat: ChatCompletionCreateParamsNonStreaming['response_format'];

  constructor(def: OpenAIAdapterDefinition, settings: OpenAIProviderSettings, options: OpenAIAdapterOptions = {}) {
    this.#def = def;
    this.#messages = def.messages.map(({ role, content }) => {
      const template = compileTemplate(content);
      return { role, template, fixed: template.constant ? { role, content } : undefined };
    });
    this.#responseFormat =
      def.responseFormat === undefined
        ? undefined
        : {
            type: 'json_schema',
            json_schema: {
              name: 'output',
              schema: def.responseFormat,
              ...(def.strictSchema === undefined ? {} : { strict: def.strictSchema }),
            },
          };
    const built = buildClient(def, settings, options);
    this.#client = built.client;
    this.#configError = built.error;
  }

  async invoke(input: unknown, signal?: AbortSignal): Promise<ChainResult> {
    if (this.#client === undefined) throw new UpstreamError('failed', this.#configError ?? 'The model provider is not configured.');
    const def = this.#def;
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: def.model,
      messages: this.#messages.map((m) => m.fixed ?? { role: m.role, content: m.template.fill(input) }),
    };
    if (def.temperature !== undefined) body.temperature = def.temperature;
    if (this.#responseFormat !== undefined) body.response_format = this.#responseFormat;

    const started = performance.now();
    let completion: ChatCompletion;
    try {
      completion = await this.#client.chat.completions.create(body, signal === undefined ? undefined : { signal });
    } catch (err) {
      throw classifyProviderError(err, signal, def.timeoutMs);
    }
    const upstreamMs = performance.now() - started;
    return { output: this.#output(completion), usage: usageOf(completion), upstreamMs };
  }

  async close(): Promise<void> {
    // The SDK holds no sockets of its own: it uses fetch's shared keep-alive pool.
  }

  #output(completion: ChatCompletion): unknown {
    const choice = completion.choices[0];
    const content = choice?.message.content;
    if (typeof content !== 'string') {
      const refusal = choice?.message.refusal;
      throw new UpstreamError('failed', refusal ? 'The model refused to answer.' : 'The model reply has no content.', {
        finishReason: choice?.finish_reason,
        ...(refusal ? { body: excerpt(refusal) } : {}),
      });
    }
    if (this.#responseFormat === undefined) return content;
    if (nestsDeeperThan(content, MAX_JSON_DEPTH)) {
      throw new UpstreamError('failed', `The model reply nests deeper than ${MAX_JSON_DEPTH} levels; it cannot be stored.`, {
        finishReason: choice?.finish_reason,
      });
    }
    try {
      return JSON.parse(content) as unknown;
    } catch {
      // Usually a reply cut short by max tokens (finish_reason "length").
      throw new UpstreamError('failed', 'The model reply is not valid JSON.', {
        finishReason: choice?.finish_reason,
        body: excerpt(content),
      });
    }
  }
}

function buildClient(
  def: OpenAIAdapterDefinition,
  settings: OpenAIProviderSettings,
  options: OpenAIAdapterOptions,
): { client?: OpenAI; error?: string } {
  const common = {
    timeout: def.timeoutMs,
    maxRetries: def.maxRetries,
    // null, not undefined: undefined makes the SDK fall back to OPENAI_ORG_ID etc. from the environment.
    organization: null,
    project: null,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  };
  const problem = providerProblem(def, settings);
  if (problem !== undefined) return { error: problem };
  if (def.provider === 'azure') {
    return {
      client: new AzureOpenAI({
        ...common,
        // The endpoint goes in as baseURL (what the SDK derives from it): left undefined, baseURL
        // would be read from OPENAI_BASE_URL, the openai provider's setting, and clash with it.
        baseURL: `${settings.azureEndpoint!.replace(/\/+$/, '')}/openai`,
        apiKey: settings.azureApiKey!,
        apiVersion: def.apiVersion ?? DEFAULT_AZURE_API_VERSION,
        deployment: def.deployment ?? def.model,
      }),
    };
  }
  return { client: new OpenAI({ ...common, apiKey: settings.apiKey!, baseURL: settings.baseURL ?? DEFAULT_OPENAI_BASE_URL }) };
}

function classifyProviderError(err: unknown, signal: AbortSignal | undefined, timeoutMs: number): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (err instanceof APIUserAbortError || signal?.aborted) {
    return signal === undefined ? new UpstreamError('failed', 'The call was cancelled.', { cancelled: true }) : abortedByCaller(signal);
  }
  if (err instanceof APIConnectionTimeoutError) {
    return new UpstreamError('timeout', `The model provider did not answer within ${timeoutMs} ms.`, { timeoutMs });
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const detail = err.error as { message?: unknown; code?: unknown; type?: unknown } | undefined;
    return new UpstreamError('failed', `The model provider answered HTTP ${err.status}.`, {
      status: err.status,
      ...(typeof detail?.code === 'string' ? { code: detail.code } : {}),
      body: excerpt(typeof detail?.message === 'string' ? detail.message : err.message),
    });
  }
  return classifyTransportError(err, signal, timeoutMs);
}

function usageOf(completion: ChatCompletion): ChainUsage | undefined {
  const usage = completion.usage;
  if (usage === undefined) return undefined;
  return { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, totalTokens: usage.total_tokens };
}
