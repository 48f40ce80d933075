// Galata (Playwright) configuration: JupyterLab at TARGET_URL (started by run.mjs), Debian's
// Chromium (never a Playwright browser download), one worker, screenshots in test-results/.
import baseConfig from '@jupyterlab/galata/lib/playwright-config';

const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export default {
  ...baseConfig,
  testDir: './tests',
  outputDir: './test-results/artifacts',
  workers: 1,
  retries: 0,
  timeout: 300_000,
  // A hung run still ends, with a report.
  globalTimeout: 1_500_000,
  expect: { timeout: 30_000 },
  reporter: [['list'], ['json', { outputFile: process.env.STRATUM_UI_REPORT || 'test-results/report.json' }]],
  use: {
    ...baseConfig.use,
    baseURL: process.env.TARGET_URL || 'http://127.0.0.1:8888',
    trace: 'off',
    video: 'off',
    screenshot: 'only-on-failure',
    viewport: { width: 1400, height: 900 },
    launchOptions: { executablePath: process.env.STRATUM_CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_FLAGS },
  },
};
