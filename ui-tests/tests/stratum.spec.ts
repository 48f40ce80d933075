/**
 * The Stratum panel in a real JupyterLab (Debian's Chromium), against a control plane that
 * jupyter-server-proxy starts on demand. Serial: later tests use the run the train test made.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  callApi,
  PENGUIN,
  predictOverHttp,
  profileAvailable,
  SPECIES,
  deploymentsAvailable,
  expandSection,
  focusSection,
  KERNEL,
  loadUntil,
  openPanel,
  section,
  serverInfo,
  shot,
  showAllSections,
  startControlPlane,
  stopProcess,
  submitWithCli,
  uiPipelineYaml,
  writeSpec,
} from './helpers';

test.describe.configure({ mode: 'serial' });

const PIPELINE = 'penguins-ui';
/** The model the deploy test trains, deploys and predicts with. */
const SERVED = 'penguins-serve';
let runId = '';

test('the panel shows the cluster with its 2 workers', async ({ page }) => {
  await openPanel(page);
  const cluster = section(page, 'cluster');
  // The first call starts the control plane through the proxy; its workers then join.
  await expect(cluster.locator('.jp-stratum-summary')).toContainText('2 workers joined', { timeout: 180_000 });
  await expect(cluster.locator('.jp-stratum-workers .jp-stratum-worker.jp-stratum-status-joined')).toHaveCount(2);
  await expect(cluster.locator('.jp-stratum-tiers')).toContainText('cloud');
  // The panel asks the control plane whether it runs deployments, and says what it found.
  const deployments = section(page, 'deployments').locator('.jp-stratum-deployments');
  if (await deploymentsAvailable()) {
    await expect(deployments).toHaveAttribute('data-available', 'true');
    await expect(deployments).not.toContainText('does not offer deployments');
  } else {
    await expect(deployments).toHaveAttribute('data-available', 'false');
    await expect(deployments).toContainText('does not offer deployments');
  }
  await shot(page, '1-cluster');
});

test('the command inserts a %%stratum pipeline cell with YAML highlighting', async ({ page }) => {
  await page.notebook.createNew('insert.ipynb', { kernel: null });
  await page.locator('.jp-NotebookPanel-toolbar [data-command="stratum:insert-pipeline-cell"]').click();
  const dialog = page.locator('.jp-Dialog');
  await dialog.locator('input').fill('penguins-demo');
  await dialog.locator('.jp-mod-accept').click();
  const cell = page.locator('.jp-Notebook .jp-Cell').last();
  await expect(cell.locator('.cm-content')).toContainText('%%stratum pipeline penguins-demo');
  await expect(cell.locator('.cm-content')).toContainText('trainer: random-forest');
  await expect(cell.locator('.jp-stratum-magic')).toHaveCount(1);
  await expect(cell.locator('.jp-stratum-yaml-key').first()).toBeVisible();
  await shot(page, '2-pipeline-cell');
});

test('training a pipeline updates the leaderboard live until the run succeeds', async ({ page }) => {
  await openPanel(page);
  if (KERNEL === 'stratum-ts') {
    await page.notebook.createNew('train.ipynb', { kernel: 'stratum-ts' });
    await page.notebook.setCell(0, 'code', `%%stratum pipeline ${PIPELINE}\n${uiPipelineYaml(PIPELINE)}`);
    await page.notebook.addCell('code', `%stratum train ${PIPELINE}`);
    await page.notebook.runCell(0);
    await page.notebook.runCell(1, { wait: false });
    const listed = section(page, 'runs').locator('.jp-stratum-run-item', { hasText: PIPELINE }).first();
    await expect(listed).toBeVisible({ timeout: 120_000 });
    runId = (await listed.getAttribute('data-run-id')) ?? '';
    await listed.click();
  } else {
    runId = await submitWithCli(writeSpec(PIPELINE));
    await page.evaluate((id) => window.jupyterapp.commands.execute('stratum:open-run', { runId: id }), runId);
  }
  const detail = section(page, 'runs').locator('.jp-stratum-run-detail');
  await expect(detail).toHaveAttribute('data-run-id', runId);
  // Live: while the run is still running, finished trials already show in the leaderboard.
  await expect
    .poll(
      async () =>
        (await detail.getAttribute('data-state')) === 'running' &&
        (await detail.locator('.jp-stratum-leaderboard tr[data-state="succeeded"]').count()) > 0,
      { timeout: 120_000 },
    )
    .toBe(true);
  await expect(detail.locator('.jp-stratum-pipeline [data-stage="candidate"]')).toHaveCount(3);
  await focusSection(page, 'Runs');
  await shot(page, '3-run-live');
  await expect(detail).toHaveAttribute('data-state', 'succeeded', { timeout: 240_000 });
  await expect(detail.locator('.jp-stratum-leaderboard tbody tr')).toHaveCount(4);
  await expect(detail.locator('.jp-stratum-best')).toContainText('★');
  await expect(detail.locator('.jp-stratum-pipeline [data-stage="selection"]')).toHaveAttribute('data-state', 'done');
  // Not deployed: "unavailable" without a deployment engine, "pending" with one.
  await expect(detail.locator('.jp-stratum-pipeline [data-stage="deployment"]')).toHaveAttribute(
    'data-state',
    (await deploymentsAvailable()) ? 'pending' : 'unavailable',
  );
  await shot(page, '4-run-succeeded');
  await showAllSections(page);
});

test('a run link in a notebook output opens the run in the Runs view', async ({ page }) => {
  expect(runId).not.toBe('');
  await page.notebook.createNew('links.ipynb', { kernel: null });
  await page.notebook.setCell(0, 'markdown', `Trained: [run ${runId.slice(0, 8)}](#stratum-run=${runId.slice(0, 8)})`);
  // Rendering Markdown needs no kernel (galata's runCell would wait for one).
  await page.notebook.selectCells(0);
  await page.evaluate(() => window.jupyterapp.commands.execute('notebook:run-cell'));
  await page.locator('.jp-RenderedMarkdown a[href^="#stratum-run="]').click();
  await expect(page.locator('#stratum-sidebar')).toBeVisible();
  await expect(section(page, 'runs').locator('.jp-stratum-run-detail')).toHaveAttribute('data-run-id', runId);
  await shot(page, '5-run-link');
});

test('a model deploys from the panel and answers %stratum predict in the notebook that trained it', async ({
  page,
}) => {
  const available = await deploymentsAvailable();
  await openPanel(page);
  // Train a model to serve, in a notebook that stays open for the prediction.
  if (KERNEL === 'stratum-ts') {
    await page.notebook.createNew('serve.ipynb', { kernel: 'stratum-ts' });
    await page.notebook.setCell(0, 'code', `%%stratum pipeline ${SERVED}\n${uiPipelineYaml(SERVED, { quick: true })}`);
    await page.notebook.addCell('code', `%stratum train ${SERVED}`);
    await page.notebook.runCell(0);
    await page.notebook.runCell(1);
  } else {
    await submitWithCli(writeSpec(SERVED, { quick: true }));
  }
  await expandSection(page, 'Models');
  const item = section(page, 'models').locator(`.jp-stratum-model-item[data-model^="${SERVED}:"]`).first();
  await expect(item).toBeVisible({ timeout: 120_000 });
  const modelRef = (await item.getAttribute('data-model')) ?? '';
  // Lineage, signature, and the profile (charts) or the plain statement that there is none.
  await item.locator('.jp-stratum-model-name').click();
  await expect(item.locator('.jp-stratum-lineage')).toContainText('random-forest');
  await expect(item.locator('.jp-stratum-lineage')).toContainText('params');
  await expect(item.locator('.jp-stratum-signature tr[data-kind="input"]')).toContainText('FP32');
  await expect(item.locator('.jp-stratum-signature tr[data-kind="output"]').first()).toBeVisible();
  const profile = item.locator('.jp-stratum-model-profile');
  if (await profileAvailable(modelRef)) {
    await expect(profile.locator('.jp-stratum-chart').first()).toBeVisible();
  } else {
    await expect(profile).toHaveAttribute('data-profile-state', 'none');
    await expect(profile).toContainText('No profile available');
  }
  await focusSection(page, 'Models');
  await shot(page, '6-model-details');

  await item.locator('.jp-stratum-deploy').click();
  const dialog = page.locator('.jp-Dialog');
  if (!available) {
    // A control plane without a deployment engine: the dialog says so and offers nothing to confirm.
    await expect(dialog).toContainText('Deployment is not available in this control plane');
    await expect(dialog.locator('.jp-mod-accept')).toHaveCount(0);
    await dialog.locator('button', { hasText: 'Close' }).click();
    return;
  }
  const plan = dialog.locator('.jp-stratum-plan');
  const deploy = dialog.locator('.jp-stratum-deploy-confirm');
  await expect(dialog.locator('select[name="tier"]')).toHaveValue('cloud');
  // Focus settles on the tier first (the dialog's focusNodeSelector), before any field is typed in.
  await expect(dialog.locator('select[name="tier"]')).toBeFocused();
  // The plan is asked as soon as the dialog opens: each check with ✓ or ✗ and what it measured.
  await expect(plan).toHaveAttribute('data-feasible', 'true');
  await expect(dialog.locator('.jp-stratum-check[data-check="memory fits"]')).toContainText('✓');
  await expect(dialog.locator('.jp-stratum-check[data-check="memory fits"]')).toContainText('MiB');
  // A latency budget the profiler never measured cannot be promised: ✗, and Deploy stays off.
  await dialog.locator('input[name="p99"]').fill('50');
  await dialog.locator('input[name="rps"]').fill('20');
  await expect(plan).toHaveAttribute('data-feasible', 'false');
  await expect(dialog.locator('.jp-stratum-check[data-check="QoS reachable"]')).toHaveAttribute('data-ok', 'false');
  await expect(dialog.locator('.jp-stratum-check[data-check="QoS reachable"]')).toContainText('✗');
  await expect(deploy).toBeDisabled();
  await dialog.locator('.jp-stratum-check[data-check="QoS reachable"]').scrollIntoViewIfNeeded();
  await shot(page, '7-deploy-plan-infeasible');
  // No QoS, at least one replica on cloud: every check passes.
  await dialog.locator('input[name="p99"]').fill('');
  await dialog.locator('input[name="rps"]').fill('');
  await dialog.locator('input[name="minReplicas"]').fill('1');
  await dialog.locator('.jp-stratum-check-plan').click();
  await expect(plan).toHaveAttribute('data-feasible', 'true');
  await expect(dialog.locator('.jp-stratum-check[data-ok="false"]')).toHaveCount(0);
  await expect(plan.locator('.jp-stratum-plan-table')).toContainText('1 to 2, starting with 1');
  await dialog.locator('.jp-stratum-iac > summary').click();
  const k8s = dialog.locator('.jp-stratum-iac-file[data-file="kubernetes.yaml"]');
  await k8s.locator('summary').click();
  await expect(k8s.locator('pre')).toContainText('kind: Deployment');
  await expect(dialog.locator('.jp-stratum-iac-file[data-file="local-plan.json"]')).toHaveCount(1);
  await expect(deploy).toBeEnabled();
  await k8s.locator('pre').scrollIntoViewIfNeeded();
  await shot(page, '8-deploy-plan');
  await deploy.click();
  await expect(dialog).toHaveCount(0, { timeout: 60_000 });

  // The panel switched to Deployments: the endpoint, its replica ready on a worker, the events.
  const deployed = section(page, 'deployments').locator(`.jp-stratum-deployment[data-deployment="${SERVED}"]`);
  await expect(deployed).toBeVisible();
  await expect(deployed).toHaveAttribute('data-state', 'ready', { timeout: 120_000 });
  const url = (await deployed.locator('.jp-stratum-endpoint-url').textContent()) ?? '';
  expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/v2/models/${SERVED}$`));
  await expect(deployed.locator('.jp-stratum-replica[data-state="ready"]')).toHaveCount(1);
  await expect(deployed.locator('.jp-stratum-replica-worker')).toContainText('local-');
  await expect(deployed.locator('.jp-stratum-event[data-kind="created"]')).toHaveCount(1);
  await expect(deployed.locator('.jp-stratum-spark')).toHaveCount(3);
  await deployed.locator('.jp-stratum-copy').click();
  await expect(deployed.locator('.jp-stratum-copy')).toHaveText('Copied');
  await shot(page, '9-deployments');

  // The notebook predicts through the endpoint URL the panel shows.
  const rows = JSON.stringify({ rows: [PENGUIN] });
  if (KERNEL === 'stratum-ts') {
    await page.notebook.activate('serve.ipynb');
    await page.notebook.addCell('code', `%stratum predict ${url} ${rows}`);
    const last = (await page.notebook.getCellCount()) - 1;
    await page.notebook.runCell(last);
    const output = await page.notebook.getCellOutputLocator(last);
    await expect(output!).toContainText('prediction');
    await expect(output!).toContainText(SPECIES);
  } else {
    expect((await predictOverHttp(url, [PENGUIN])).predictions[0]).toMatch(SPECIES);
  }
  // Under load, the view follows the gateway's reports: requests per second and latency above 0.
  const refresh = page
    .locator('#stratum-sidebar .jp-AccordionPanel-title', { hasText: /^Deployments/i })
    .locator('.jp-ToolbarButtonComponent');
  const value = async (metric: string) =>
    Number(await deployed.locator(`.jp-stratum-spark[data-metric="${metric}"]`).getAttribute('data-value'));
  const seen = expect(async () => {
    await refresh.click();
    expect(await value('req/s')).toBeGreaterThan(0);
    expect(await value('p50')).toBeGreaterThan(0);
  }).toPass({ timeout: 60_000 });
  const [sent] = await Promise.all([loadUntil(url, seen), seen]);
  expect(sent).toBeGreaterThan(0);
  await shot(page, '10-predict-and-load');

  // Scale, then undeploy (each confirmed in a dialog); the view follows each change.
  await deployed.locator('.jp-stratum-scale').click();
  // The dialog moves focus to its min field once shown; typing before that can land there ("13").
  await expect(page.locator('.jp-Dialog input[name="min"]')).toBeFocused();
  await page.locator('.jp-Dialog input[name="max"]').fill('3');
  await page.locator('.jp-Dialog .jp-mod-accept').click();
  await expect(deployed.locator('.jp-stratum-replica-count')).toContainText('(1..3)');
  await deployed.locator('.jp-stratum-undeploy').click();
  await expect(page.locator('.jp-Dialog')).toContainText(url);
  await page.locator('.jp-Dialog .jp-mod-accept').click();
  await expect(deployed).toHaveCount(0);
});

test('a stopped control plane shows a Retry message, and Retry recovers', async ({ page }) => {
  const models = await callApi<{ models?: unknown[] }>('stratum.v1.ModelService/ListModels');
  expect(models.models?.length ?? 0).toBeGreaterThan(0);
  await openPanel(page);
  const cluster = section(page, 'cluster');
  await expect(cluster.locator('.jp-stratum-summary')).toContainText('workers joined');
  const { url, pid } = serverInfo();
  await stopProcess(pid);
  // The section's refresh button sits in its accordion title.
  await page
    .locator('#stratum-sidebar .jp-AccordionPanel-title', { hasText: /^Cluster/i })
    .locator('.jp-ToolbarButtonComponent')
    .click();
  const down = cluster.locator('.jp-stratum-down');
  await expect(down).toContainText('not reachable');
  await expect(down.locator('button.jp-stratum-retry')).toBeVisible();
  await shot(page, '11-control-plane-down');
  // Bring it back on the same port, where the proxy still points, and retry.
  await startControlPlane(Number(new URL(url).port));
  // The poll may find it back first; Retry fetches at once instead of waiting for the next tick.
  const retry = down.locator('button.jp-stratum-retry');
  if (await retry.isVisible()) await retry.click();
  await expect(cluster.locator('.jp-stratum-summary')).toContainText('2 workers joined', { timeout: 60_000 });
  await shot(page, '12-control-plane-back');
});
