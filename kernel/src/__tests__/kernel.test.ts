/**
 * The kernel over the Jupyter protocol: jupyter_kernel_test's KernelTests (kernel_info, execute,
 * stdout/stderr, errors, display_data, completion, inspection, is_complete) and this kernel's
 * own protocol tests (magic errors, interrupt, shutdown), in test_kernel.py.
 */
import { installKernelspec, python } from './python';

it('passes jupyter_kernel_test and the protocol tests of test_kernel.py', async () => {
  const r = await python(['-m', 'unittest', '-v', 'test_kernel'], { JUPYTER_PATH: installKernelspec() });
  expect(r.output).toMatch(/^Ran \d+ tests in /m);
  expect(r.output).not.toMatch(/skipped|FAILED|ERROR/);
  expect(r.code).toBe(0);
  expect(r.output).toMatch(/^OK$/m);
});
