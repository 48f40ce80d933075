/**
 * The API-key part of DeploymentService: keys are made here, answered once and stored as
 * hashes; every change republishes the routing table so gateways check the new set.
 */
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { CreateApiKeyResponseSchema, type CreateApiKeyResponse, type DeploymentService } from '@stratum/proto';
import { randomBytes } from 'node:crypto';

import { generateApiKey, hashApiKey } from '../deploy/gateway/api-keys';
import type { ApiKeyRepo } from '../store/api-keys';
import type { DeploymentRepo } from '../store/deployments';

export interface ApiKeyRoutesDeps {
  readonly repo: DeploymentRepo;
  readonly keys: ApiKeyRepo;
  /** Republishes the routing table (ReplicaManager.keysChanged). */
  readonly keysChanged: () => void;
  readonly now?: () => number;
}

const MAX_LABEL = 100;

/** A label is free text for operators, one line, bounded. */
export function checkLabel(label: string): string {
  if (label.length > MAX_LABEL) {
    throw new ConnectError(`--label is ${label.length} characters; the limit is ${MAX_LABEL}`, Code.InvalidArgument);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(label)) {
    throw new ConnectError('--label must be one line of printable text', Code.InvalidArgument);
  }
  return label;
}

function keyedDeployment(d: ApiKeyRoutesDeps, name: string): void {
  const row = d.repo.row(name);
  if (!row) throw new ConnectError(`deployment ${JSON.stringify(name.slice(0, 80))} not found`, Code.NotFound);
  if (!d.repo.plan(row).requireKey) {
    throw new ConnectError(
      `deployment "${name}" was deployed without --require-key: its endpoint is open and would not check a key; ` +
        'redeploy it with --require-key',
      Code.FailedPrecondition,
    );
  }
}

/** Makes a key for a keyed deployment: the secret goes to the caller only, the store gets its hash. */
export function issueApiKey(d: ApiKeyRoutesDeps, deployment: string, label: string): CreateApiKeyResponse {
  keyedDeployment(d, deployment);
  const secret = generateApiKey();
  const key = d.keys.insert(
    { id: `k${randomBytes(5).toString('hex')}`, deployment, label: checkLabel(label), hash: hashApiKey(secret) },
    (d.now ?? Date.now)(),
  );
  d.keysChanged();
  return create(CreateApiKeyResponseSchema, { key, secret });
}

export function apiKeyRoutes(
  d: ApiKeyRoutesDeps,
): Pick<ServiceImpl<typeof DeploymentService>, 'createApiKey' | 'listApiKeys' | 'revokeApiKey'> {
  return {
    createApiKey(req) {
      return issueApiKey(d, req.deployment, req.label);
    },

    listApiKeys(req) {
      keyedDeployment(d, req.deployment);
      return { keys: d.keys.list(req.deployment) };
    },

    revokeApiKey(req) {
      keyedDeployment(d, req.deployment);
      const known = d.keys.get(req.deployment, req.id);
      if (!known) {
        throw new ConnectError(
          `deployment "${req.deployment}" has no API key ${JSON.stringify(req.id.slice(0, 40))} (stratum keys list ${req.deployment})`,
          Code.NotFound,
        );
      }
      if (d.keys.revoke(req.deployment, req.id, (d.now ?? Date.now)())) d.keysChanged();
      return { key: d.keys.get(req.deployment, req.id)! };
    },
  };
}
