/**
 * The OpenAPI document without a running gateway (`chain-canary openapi`, `npm run lint:openapi`):
 * buildApp with services that are never called. Routes only keep a reference to their services
 * when registered; a route that used one then would throw here, saying which.
 */
import type { AppServices } from '../../app.js';

export async function buildOpenApiDocument(): Promise<Record<string, unknown>> {
  const { buildApp } = await import('../../app.js');
  const unused = new Proxy({} as AppServices, {
    get: (_target, name) =>
      new Proxy(() => {}, {
        get: (_t, member) => {
          throw new Error(`building the OpenAPI document used services.${String(name)}.${String(member)}`);
        },
        apply: () => {
          throw new Error(`building the OpenAPI document called services.${String(name)}`);
        },
      }),
  });
  const app = await buildApp(unused, { bodyLimit: 1024 * 1024 });
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}
