/** The extension's icons (inline SVG, themed through the jp-icon3 class). */
import { LabIcon } from '@jupyterlab/ui-components';

const stratumSvg =
  '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
  '<path d="M12 2 2 7l10 5 10-5-10-5z"/>' +
  '<path d="m2 12 10 5 10-5-2.2-1.1L12 14.8 4.2 10.9z" opacity=".8"/>' +
  '<path d="m2 17 10 5 10-5-2.2-1.1L12 19.8l-7.8-3.9z" opacity=".6"/></g></svg>';

const pipelineCellSvg =
  '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
  '<path d="M4 3h16v4H4zM4 10h7v4H4zM13 10h7v4h-7zM8 17h8v4H8z"/>' +
  '<path d="M11.3 7h1.4v3h-1.4zM7 14h1.4v3H7zM15.6 14H17v3h-1.4z"/></g></svg>';

export const stratumIcon = new LabIcon({ name: 'stratum:logo', svgstr: stratumSvg });
export const pipelineCellIcon = new LabIcon({ name: 'stratum:pipeline-cell', svgstr: pipelineCellSvg });
