import type { PublicEvent } from '../catalog/public-event';
import { NODE_GPU_ERROR_V1, nodeGpuErrorV1Schema } from './gpu-error.v1';

export const NODE_EVENTS: PublicEvent[] = [
  {
    type: NODE_GPU_ERROR_V1,
    title: 'GPU error on a node',
    description:
      'A kernel Xid report or an inference engine error (CUDA out of memory, model-load failure, crash) read from a node log by the agent, with the labels of the GPU or MIG slice it concerns.',
    stream: 'node',
    subject: 'aw.node.v1.gpu-errors.{cluster}.{node}',
    subjectTokens: { cluster: 'the cluster the agent reports for', node: "the node's hostname" },
    schema: nodeGpuErrorV1Schema,
    publishers: ['agent'],
    consumers: ['console', 'anomaly', 'integrations'],
    idPromise:
      'derived from the node, the log (name and inode) and the byte offset of the line: a line read twice is one event',
    ordering: 'per node and log, in the order of the lines',
  },
];
