/** `stratum keys create|list|revoke`: API keys of a deployment deployed with --require-key. */
import type { ApiKey, CreateApiKeyResponse } from '@stratum/proto';

import { UsageError, type FlagValue } from './args';
import { clientFor, type Io } from './client-commands';
import { table } from './render';

type Flags = Readonly<Record<string, FlagValue>>;

const ACTIONS = ['create', 'list', 'revoke'] as const;

const iso = (ms: bigint): string => (ms > 0n ? new Date(Number(ms)).toISOString() : '');

/** A key as scripts read it: never a secret or a hash (the wire type has neither). */
export function keyJson(k: ApiKey): Record<string, string> {
  return {
    id: k.id,
    deployment: k.deployment,
    label: k.label,
    created: iso(k.createdAtMs),
    revoked: iso(k.revokedAtMs),
  };
}

export function keysTable(keys: readonly ApiKey[]): string {
  return table(
    ['id', 'label', 'created', 'revoked'],
    keys.map((k) => [k.id, k.label, iso(k.createdAtMs), iso(k.revokedAtMs) || '-']),
  );
}

/** The one time a key is shown: the secret, its id, and how a client sends it. */
export function newKeyText(made: CreateApiKeyResponse, endpoint?: string): string {
  const name = made.key?.deployment ?? '';
  const url = endpoint ? `${endpoint}/v2/models/${name}/predict` : `GATEWAY/v2/models/${name}/predict`;
  return [
    `API key ${made.key?.id} for deployment "${name}" (shown once; the control plane keeps only its hash):`,
    `  ${made.secret}`,
    `  curl -s -X POST ${url} -H "Authorization: Bearer $STRATUM_API_KEY" -d '{"rows": [{...}]}'`,
    `  stratum predict ${url.replace(/\/predict$/, '')} --input ... (reads $STRATUM_API_KEY, or --api-key)`,
  ].join('\n');
}

export async function keys(args: readonly string[], flags: Flags, io: Io): Promise<number> {
  const [action, deployment, id] = args as [string, string | undefined, string | undefined];
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(`keys takes ${ACTIONS.join(', ')}; got "${action}"`, 'keys');
  }
  if (!deployment) throw new UsageError(`keys ${action} needs DEPLOYMENT`, 'keys');
  if (action !== 'revoke' && id !== undefined) {
    throw new UsageError(`keys ${action} takes DEPLOYMENT only; got also "${id}"`, 'keys');
  }
  if (action !== 'create' && flags.label !== undefined) throw new UsageError('--label is for keys create', 'keys');
  const client = clientFor(flags);
  if (action === 'create') {
    const made = await client.deployments.createApiKey({ deployment, label: String(flags.label ?? '') });
    const { deployment: d } = await client.deployments.getDeployment({ name: deployment });
    io.out(
      flags.json ? JSON.stringify({ ...keyJson(made.key!), key: made.secret }, null, 2) : newKeyText(made, d?.endpoint),
    );
    return 0;
  }
  if (action === 'list') {
    const { keys: list } = await client.deployments.listApiKeys({ deployment });
    io.out(flags.json ? JSON.stringify(list.map(keyJson), null, 2) : keysTable(list));
    return 0;
  }
  if (!id) throw new UsageError('keys revoke needs DEPLOYMENT KEY_ID (stratum keys list DEPLOYMENT)', 'keys');
  const { key } = await client.deployments.revokeApiKey({ deployment, id });
  io.out(
    flags.json
      ? JSON.stringify(keyJson(key!), null, 2)
      : `revoked ${key!.id} of "${deployment}"; gateways refuse it once their routing table updates`,
  );
  return 0;
}
