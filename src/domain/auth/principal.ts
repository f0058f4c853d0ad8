/** Who is calling: decided once per request by the auth plugin, before the body is read. */
export type Principal = { kind: 'admin'; keyName: string } | { kind: 'tenant'; tenantId: string; keyId: string; keyName: string };

export type AccessLevel = 'public' | 'tenant' | 'admin';

/** The name written to audit logs for an actor. */
export function actorName(p: Principal): string {
  return p.kind === 'admin' ? `admin:${p.keyName}` : `tenant:${p.tenantId}:${p.keyName}`;
}
