// The image's HEALTHCHECK: exit 0 when the gateway's /readyz answers 200 (ok, or degraded: still
// serving on its last known flags), 1 otherwise (503: cannot serve; no answer within 3 s).
// Plain Node (no curl or wget in the slim image); reads PORT and HOST as the gateway does.
const port = process.env.PORT || '8080';
const host = !process.env.HOST || ['0.0.0.0', '::'].includes(process.env.HOST) ? '127.0.0.1' : process.env.HOST;
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/readyz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(Number(process.env.HEALTHCHECK_TIMEOUT_MS) || 3000) });
  process.stdout.write(`${res.status} ${await res.text()}\n`);
  process.exit(res.status === 200 ? 0 : 1);
} catch (err) {
  process.stdout.write(`${url}: ${err.cause?.code ?? err.message}\n`);
  process.exit(1);
}
