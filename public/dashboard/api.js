// The gateway's API, with the token the user entered. The token lives in sessionStorage: it is
// kept while this tab is open and forgotten when it closes.

const TOKEN_KEY = 'chain-canary.token';

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** An error the API answered ({"error": {"code", "message"}}), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  const t = token.get();
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'network', 'The gateway could not be reached. Is it still running?');
  }
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = json?.error;
    throw new ApiError(
      res.status,
      e?.code ?? `http_${res.status}`,
      e?.message ?? `The gateway answered ${res.status} ${res.statusText}.`,
      e?.details,
    );
  }
  return json;
}

export const rolloutsApi = {
  list: () => api('GET', '/v1/rollouts'),
  get: (id) => api('GET', `/v1/rollouts/${encodeURIComponent(id)}`),
  comparison: (id) => api('GET', `/v1/rollouts/${encodeURIComponent(id)}/comparison`),
  timeseries: (id, bucket) => api('GET', `/v1/rollouts/${encodeURIComponent(id)}/timeseries?bucket=${bucket}`),
  events: (id) => api('GET', `/v1/rollouts/${encodeURIComponent(id)}/events`),
  act: (id, action, body = {}) => api('POST', `/v1/rollouts/${encodeURIComponent(id)}/${action}`, body),
};

export const planApi = {
  plan: (body) => api('POST', '/v1/rollouts/plan', body),
};
