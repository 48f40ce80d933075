/** ModelService: the registry — list, get, download, and import of ONNX files made elsewhere. */
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { ModelService } from '@stratum/proto';

import { OnnxFormatError } from '../onnx/signature';
import type { ArtifactStore } from '../store/artifacts';
import { describeOnnx } from '../store/model-info';
import type { ModelRepo } from '../store/models';
import { STRATUM_VERSION } from '../scheduler/finalize';

const CHUNK = 1 << 20;

/** Model names become file and URL path parts: a DNS label keeps them safe everywhere. */
export const MODEL_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function checkModelName(name: string): void {
  if (!MODEL_NAME.test(name)) {
    throw new ConnectError(
      `invalid model name ${JSON.stringify(name.slice(0, 80))}: use lowercase letters, digits and dashes (at most 63)`,
      Code.InvalidArgument,
    );
  }
}

export function modelRoutes(d: {
  models: ModelRepo;
  artifacts: ArtifactStore;
  limits: { readonly maxModelBytes: number };
}): ServiceImpl<typeof ModelService> {
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
    async importModel(reqs) {
      let name = '';
      let description = '';
      const chunks: Uint8Array[] = [];
      let size = 0;
      let first = true;
      for await (const r of reqs) {
        if (first) {
          name = r.name;
          description = r.description.slice(0, 1000);
          checkModelName(name);
          first = false;
        }
        size += r.chunk.byteLength;
        if (size > d.limits.maxModelBytes) {
          throw new ConnectError(
            `model file exceeds the limit of ${d.limits.maxModelBytes} bytes`,
            Code.InvalidArgument,
          );
        }
        chunks.push(r.chunk);
      }
      if (first) throw new ConnectError('import needs a name and the file bytes', Code.InvalidArgument);
      const bytes = Buffer.concat(chunks);
      let info;
      try {
        // Checked before anything is stored: a file that is not ONNX never enters the registry.
        info = describeOnnx(bytes);
      } catch (e) {
        if (e instanceof OnnxFormatError) {
          throw new ConnectError(`not an ONNX model: ${e.message}`, Code.InvalidArgument);
        }
        throw e;
      }
      const digest = d.artifacts.put(bytes, `import ${name}`);
      const version = d.models.register(
        {
          name,
          format: 'onnx',
          digest,
          size: bytes.byteLength,
          metrics: {},
          lineage: {
            runId: '',
            trialId: '',
            specHash: '',
            dataHash: '',
            paramsJson: '',
            trainer: '',
            backend: '',
            candidate: '',
            versions: { stratum: STRATUM_VERSION, producer: info.producer },
          },
          info,
          source: 'imported',
          description,
        },
        Date.now(),
      );
      return { model: find(name, version) };
    },
  };
}
