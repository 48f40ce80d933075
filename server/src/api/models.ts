/** ModelService: the registry, read side. */
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { ModelService } from '@stratum/proto';

import type { ArtifactStore } from '../store/artifacts';
import type { ModelRepo } from '../store/models';

const CHUNK = 1 << 20;

export function modelRoutes(d: { models: ModelRepo; artifacts: ArtifactStore }): ServiceImpl<typeof ModelService> {
  const find = (name: string, version: number) => {
    const m = d.models.get(name, version);
    if (!m) {
      const what = version ? `${name}:${version}` : name;
      throw new ConnectError(`model ${JSON.stringify(what.slice(0, 120))} not found`, Code.NotFound);
    }
    return m;
  };
  return {
    listModels(req) {
      return { models: d.models.list(req.name || undefined) };
    },
    getModel(req) {
      return { model: find(req.name, req.version) };
    },
    async *downloadModel(req) {
      const m = find(req.name, req.version);
      const bytes = d.artifacts.get(m.digest);
      for (let off = 0; off < bytes.byteLength; off += CHUNK) {
        yield { data: bytes.subarray(off, off + CHUNK), totalBytes: BigInt(bytes.byteLength) };
      }
    },
  };
}
