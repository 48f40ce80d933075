// Validates Kubernetes objects against the OpenAPI schemas of kubernetes-models, which ships as
// ES modules only: jest (CommonJS) runs this in a child Node process. Objects come as a JSON array
// on stdin; the answer is a JSON array on stdout, one entry per object: null or the error text.
import { Buffer } from 'node:buffer';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const objects = JSON.parse(Buffer.concat(chunks).toString('utf8'));

async function model(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : [null, apiVersion];
  const path = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
  const mod = await import(path);
  if (!mod[kind]) throw new Error(`kubernetes-models has no ${kind} in ${path}`);
  return mod[kind];
}

const results = [];
for (const o of objects) {
  try {
    const Model = await model(o.apiVersion, o.kind);
    new Model(o).validate();
    results.push(null);
  } catch (e) {
    results.push(e instanceof Error ? e.message : String(e));
  }
}
process.stdout.write(JSON.stringify(results));
