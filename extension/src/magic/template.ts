/**
 * The `%%stratum pipeline NAME` cell the insert command adds, modelled on
 * examples/penguins.yaml: the magic line, then the pipeline spec in YAML.
 */

/**
 * A pipeline name the spec accepts (`metadata.name`): lowercase letters, digits and dashes,
 * starting and ending with a letter or digit, at most 63 characters.
 */
export function pipelineName(raw: string): string {
  const name = raw
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
  return name || 'pipeline';
}

export function pipelineCell(rawName: string): string {
  const name = pipelineName(rawName);
  return `%%stratum pipeline ${name}
apiVersion: stratum/v1
kind: Pipeline
metadata:
  name: ${name}
  description: Penguin species from beak, flipper and body measurements
data:
  source: penguins.json  # a path relative to this notebook, or an http(s) URL
target: Species
features: [Island, Beak Length (mm), Beak Depth (mm), Flipper Length (mm), Body Mass (g), Sex]
transforms:
  - dropMissing: { columns: [Beak Length (mm), Beak Depth (mm), Flipper Length (mm), Body Mass (g)] }
  - fillMissing: { columns: [Sex], strategy: mostFrequent }
  - oneHot: { columns: [Island, Sex] }
  - standardize: { columns: [Beak Length (mm), Beak Depth (mm), Flipper Length (mm), Body Mass (g)] }
split:
  holdout: { test: 0.25, seed: 7, stratify: true }
task: classification
models:
  - name: forest
    trainer: random-forest
    params: { nEstimators: [25, 75], maxDepth: [4, 8] }
  - name: logistic
    trainer: logistic-regression
    params: { learningRate: 0.1, numSteps: [300, 1500] }
selection:
  metric: accuracy
resources: { cpus: 1, memory: 512Mi }
seed: 7`;
}

/** Whether a cell's source is a `%%stratum` cell magic (its body is YAML or JSON). */
export function isStratumCell(source: string): boolean {
  return /^%%stratum(\s|$)/.test(source);
}
