/** Child side: announce readiness and stop on request (serve-child.mjs). */
export declare function serveChild(
  ready: { url: string } & Record<string, unknown>,
  onStop: () => Promise<Record<string, unknown> | void>,
  stats?: () => Record<string, unknown>,
): void;
