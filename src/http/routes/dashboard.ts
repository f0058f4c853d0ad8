/**
 * The dashboard: a static page at /dashboard (public/dashboard: index.html, app.js, style.css),
 * and uPlot from node_modules at /dashboard/vendor/, so it works without a network or a CDN.
 * The page itself needs no token; its API calls carry the token the user enters, so every
 * figure it shows is still behind auth.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

const PAGE_ROOT = fileURLToPath(new URL('../../../public/dashboard/', import.meta.url));
// uplot's "main" is dist/uPlot.cjs.js; the ESM build and the stylesheet sit beside it.
const UPLOT_ROOT = dirname(createRequire(import.meta.url).resolve('uplot'));
const VENDOR_FILES = new Set(['/uPlot.esm.js', '/uPlot.min.css']);

export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  // Encapsulated: marks only the routes registered in this plugin as public pages.
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), access: 'public', page: true };
  });

  await app.register(fastifyStatic, {
    root: PAGE_ROOT,
    prefix: '/dashboard/',
    // The page links its files by absolute path, so /dashboard and /dashboard/ both work.
    redirect: false,
    index: 'index.html',
    decorateReply: true,
    schemaHide: true,
    // Small files that change with each release: revalidate by ETag rather than cache blindly.
    cacheControl: true,
    maxAge: 0,
  });
  await app.register(fastifyStatic, {
    root: UPLOT_ROOT,
    prefix: '/dashboard/vendor/',
    decorateReply: false,
    schemaHide: true,
    index: false,
    allowedPath: (pathName) => VENDOR_FILES.has(pathName),
    maxAge: '1d',
  });

  app.get('/dashboard', { schema: { hide: true } }, (_req, reply) => reply.sendFile('index.html'));
}
