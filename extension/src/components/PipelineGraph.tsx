/** The run's pipeline drawn as inline SVG: data → transforms → candidates → evaluation → selection → deployment. */
import type { Run } from '@stratum/proto';
import * as React from 'react';

import { layoutGraph, pipelineGraph, type DeploymentInfo } from '../pipeline';

function clip(s: string, width: number): string {
  const max = Math.max(4, Math.floor(width / 6.2));
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

export function PipelineGraph({ run, deployments }: { readonly run: Run; readonly deployments?: DeploymentInfo }) {
  const layout = React.useMemo(() => layoutGraph(pipelineGraph(run, deployments)), [run, deployments]);
  return (
    <svg
      className="jp-stratum-pipeline"
      viewBox={`0 0 ${layout.width} ${layout.height}`}
      width="100%"
      role="img"
      aria-label={`pipeline of run ${run.name}`}
    >
      <defs>
        <marker
          id="jp-stratum-arrow"
          viewBox="0 0 8 8"
          refX="7"
          refY="4"
          markerWidth="6"
          markerHeight="6"
          orient="auto"
        >
          <path d="M0,0 L8,4 L0,8 z" className="jp-stratum-pipeline-arrow" />
        </marker>
      </defs>
      {layout.edges.map((e, i) => (
        <line
          key={i}
          x1={e.x1}
          y1={e.y1}
          x2={e.x2}
          y2={e.y2 - 1}
          className="jp-stratum-pipeline-edge"
          markerEnd="url(#jp-stratum-arrow)"
        />
      ))}
      {layout.nodes.map(({ node, x, y, w, h }) => (
        <g
          key={node.id}
          className={`jp-stratum-node jp-stratum-node-${node.stage} jp-stratum-state-${node.state}`}
          data-stage={node.stage}
          data-state={node.state}
        >
          <title>{`${node.label}: ${node.detail} (${node.state})`}</title>
          <rect x={x} y={y} width={w} height={h} rx={5} />
          <text x={x + 6} y={y + 14} className="jp-stratum-node-label">
            {clip(node.label, w - 8)}
          </text>
          <text x={x + 6} y={y + 27} className="jp-stratum-node-detail">
            {clip(node.detail, w - 8)}
          </text>
        </g>
      ))}
    </svg>
  );
}
