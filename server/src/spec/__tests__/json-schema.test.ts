/**
 * The committed JSON Schema must be what the code generates. To regenerate it:
 *   UPDATE_SCHEMA=1 npx jest server/src/spec/__tests__/json-schema
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipelineJsonSchema, pipelineJsonSchemaText } from '../json-schema';

const FILE = join(__dirname, '..', '..', '..', 'schema', 'pipeline.schema.json');

test('server/schema/pipeline.schema.json equals the generated schema', () => {
  const generated = pipelineJsonSchemaText();
  if (process.env.UPDATE_SCHEMA === '1') writeFileSync(FILE, generated);
  expect(readFileSync(FILE, 'utf8')).toBe(generated);
});

test('is a draft 2020-12 document with $id, $defs and resolvable references', () => {
  const schema = pipelineJsonSchema();
  expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  expect(schema.$id).toBe('https://stratum.dev/schemas/pipeline.v1.json');
  expect(schema.description).toEqual(expect.any(String));
  const text = JSON.stringify(schema);
  const refs = [...text.matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]);
  expect(refs.length).toBeGreaterThan(0);
  for (const ref of refs) {
    expect(ref).toMatch(/^#\/\$defs\//);
    expect((schema.$defs as Record<string, unknown>)[ref!.slice('#/$defs/'.length)]).toBeDefined();
  }
  // Draft 2020-12 tuples, and no draft-07 leftovers.
  expect(text).toContain('"prefixItems"');
  expect(text).not.toContain('"additionalItems"');
});

test('fields with a default are not required, so specs may leave them out', () => {
  const schema = pipelineJsonSchema() as { required: string[]; properties: Record<string, { required?: string[] }> };
  expect(schema.required).toEqual(
    expect.arrayContaining(['apiVersion', 'kind', 'metadata', 'data', 'target', 'task', 'models', 'selection']),
  );
  expect(schema.properties.search?.required).toBeUndefined();
});
