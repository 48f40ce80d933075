/**
 * Run ids in notebook outputs open the Runs view: any element with `data-stratum-run="ID"`
 * (kept in trusted outputs) or a link to `#stratum-run=ID` (kept by the sanitizer as well).
 */
import type { IDisposable } from '@lumino/disposable';

const HREF = /^#stratum-run=([A-Za-z0-9_-]+)$/;

/** The run id a link's href names, if it names one. */
export function runIdFromHref(href: string | null): string | undefined {
  return href ? HREF.exec(href)?.[1] : undefined;
}

export function runIdOf(target: EventTarget | null): string | undefined {
  if (!(target instanceof Element)) return undefined;
  const el = target.closest('[data-stratum-run], a[href^="#stratum-run="]');
  if (!el) return undefined;
  return el.getAttribute('data-stratum-run') || runIdFromHref(el.getAttribute('href'));
}

/** Listens (capture phase, so JupyterLab's own link handling does not run) on `root`. */
export function installRunLinks(root: HTMLElement, open: (runId: string) => void): IDisposable {
  const onClick = (event: MouseEvent): void => {
    const runId = runIdOf(event.target);
    if (!runId) return;
    event.preventDefault();
    event.stopPropagation();
    open(runId);
  };
  root.addEventListener('click', onClick, true);
  let disposed = false;
  return {
    get isDisposed() {
      return disposed;
    },
    dispose() {
      root.removeEventListener('click', onClick, true);
      disposed = true;
    },
  };
}
