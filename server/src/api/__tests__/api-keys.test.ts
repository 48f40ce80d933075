/**
 * The API-key routes in memory (createRouterTransport) over a real SQLite store: a key is
 * answered once and stored as its hash; listing never shows a secret; revocation republishes
 * the routes; open deployments and unknown names are refused with what to do.
 */
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, createRouterTransport } from '@connectrpc/connect';
import { DeploymentPlanSchema, DeploymentService } from '@stratum/proto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { hashApiKey } from '../../deploy/gateway/api-keys';
import { ApiKeyRepo } from '../../store/api-keys';
import { openDb } from '../../store/db';
import { DeploymentRepo } from '../../store/deployments';
import { apiKeyRoutes } from '../api-keys';

function setup() {
  const db = openDb(join(mkdtempSync(join(tmpdir(), 'stratum-keys-')), 'stratum.db'));
  const repo = new DeploymentRepo(db);
  const keys = new ApiKeyRepo(db);
  repo.insert(create(DeploymentPlanSchema, { name: 'keyed', requireKey: true, maxReplicas: 1 }), 1, 1);
  repo.insert(create(DeploymentPlanSchema, { name: 'open', maxReplicas: 1 }), 1, 1);
  let published = 0;
  let now = 1000;
  const routes = apiKeyRoutes({ repo, keys, keysChanged: () => published++, now: () => now });
  const transport = createRouterTransport((router) => router.service(DeploymentService, routes));
  return {
    client: createClient(DeploymentService, transport),
    keys,
    published: () => published,
    tick: () => (now += 1000),
    dump: () => JSON.stringify(db.prepare('SELECT * FROM api_keys').all()),
  };
}

async function code(p: Promise<unknown>): Promise<[Code, string]> {
  try {
    await p;
  } catch (e) {
    const c = ConnectError.from(e);
    return [c.code, c.rawMessage];
  }
  throw new Error('expected a refusal');
}

describe('API key routes', () => {
  it('answers a key once, stores only its hash, lists without secrets, revokes', async () => {
    const t = setup();
    const made = await t.client.createApiKey({ deployment: 'keyed', label: 'dashboard' });
    expect(made.secret).toMatch(/^sk-stratum-/);
    expect(made.key?.label).toBe('dashboard');
    expect(t.published()).toBe(1);
    expect(t.dump()).not.toContain(made.secret);
    expect(t.dump()).toContain(hashApiKey(made.secret));
    expect(t.keys.enabledHashes().get('keyed')).toEqual([hashApiKey(made.secret)]);

    t.tick();
    const second = await t.client.createApiKey({ deployment: 'keyed' });
    const { keys } = await t.client.listApiKeys({ deployment: 'keyed' });
    expect(keys.map((k) => k.id)).toEqual([made.key!.id, second.key!.id]);
    expect(JSON.stringify(keys, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toMatch(
      /sk-stratum-|[0-9a-f]{64}/,
    );

    const revoked = await t.client.revokeApiKey({ deployment: 'keyed', id: made.key!.id });
    expect(revoked.key?.revokedAtMs).toBe(2000n);
    expect(t.published()).toBe(3);
    expect(t.keys.enabledHashes().get('keyed')).toEqual([hashApiKey(second.secret)]);
    // Revoking again changes nothing and republishes nothing.
    await t.client.revokeApiKey({ deployment: 'keyed', id: made.key!.id });
    expect(t.published()).toBe(3);
  });

  it('refuses open deployments, unknown names and keys, and bad labels, saying what to do', async () => {
    const t = setup();
    expect(await code(t.client.createApiKey({ deployment: 'open' }))).toEqual([
      Code.FailedPrecondition,
      expect.stringMatching(/deployed without --require-key/),
    ]);
    expect(await code(t.client.listApiKeys({ deployment: 'nope' }))).toEqual([
      Code.NotFound,
      'deployment "nope" not found',
    ]);
    expect(await code(t.client.revokeApiKey({ deployment: 'keyed', id: 'k123' }))).toEqual([
      Code.NotFound,
      expect.stringMatching(/has no API key "k123" \(stratum keys list keyed\)/),
    ]);
    expect(await code(t.client.createApiKey({ deployment: 'keyed', label: 'x'.repeat(101) }))).toEqual([
      Code.InvalidArgument,
      '--label is 101 characters; the limit is 100',
    ]);
    expect(await code(t.client.createApiKey({ deployment: 'keyed', label: 'a\nb' }))).toEqual([
      Code.InvalidArgument,
      '--label must be one line of printable text',
    ]);
    expect(t.published()).toBe(0);
  });
});
