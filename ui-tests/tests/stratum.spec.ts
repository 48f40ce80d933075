/**
 * The Stratum panel in a real JupyterLab (Debian's Chromium), against a control plane that
 * jupyter-server-proxy starts on demand. Serial: later tests use the run the train test made.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  callApi,
  deploymentsAvailable,
  expandSection,
  focusSection,
  KERNEL,
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
    await expect(deployments).toContainText('does not offer deployments yet');
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

test('Deploy opens a dialog with tier, QoS and scaling that says plainly what it cannot do', async ({ page }) => {
  await openPanel(page);
  await expandSection(page, 'Models');
  const models = section(page, 'models');
  const item = models.locator(`.jp-stratum-model-item[data-model^="${PIPELINE}:"]`).first();
  await expect(item).toBeVisible({ timeout: 60_000 });
  await item.locator('.jp-stratum-model-name').click();
  await expect(item.locator('.jp-stratum-lineage')).toContainText(/random-forest|logistic-regression/);
  await item.locator('.jp-stratum-deploy').click();
  const dialog = page.locator('.jp-Dialog');
  // It never pretends: without a deployment engine it says so; with one, that it does not deploy.
  await expect(dialog).toContainText(
    (await deploymentsAvailable())
      ? 'this panel does not start them: nothing will be deployed from this dialog'
      : 'Deployment is not available in this control plane',
  );
  await expect(dialog.locator('select[name="tier"]')).toHaveValue('cloud');
  await expect(dialog.locator('input[name="p95"]')).toBeVisible();
  await expect(dialog.locator('input[name="max"]')).toBeVisible();
  await expect(dialog.locator('.jp-mod-accept')).toHaveCount(0);
  await shot(page, '6-deploy-dialog');
  await dialog.locator('button', { hasText: 'Close' }).click();
  await expect(dialog).toHaveCount(0);
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
  await shot(page, '7-control-plane-down');
  // Bring it back on the same port, where the proxy still points, and retry.
  await startControlPlane(Number(new URL(url).port));
  // The poll may find it back first; Retry fetches at once instead of waiting for the next tick.
  const retry = down.locator('button.jp-stratum-retry');
  if (await retry.isVisible()) await retry.click();
  await expect(cluster.locator('.jp-stratum-summary')).toContainText('2 workers joined', { timeout: 60_000 });
  await shot(page, '8-control-plane-back');
});
