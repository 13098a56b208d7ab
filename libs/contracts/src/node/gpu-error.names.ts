import { deterministicId } from '../cloudevents/new-event';
import { subjectToken } from '../subjects';

/*
 * The names of the gpu-error event (its schema is gpu-error.v1.ts): kept apart from the schema so
 * that the node agent, which only publishes the event, loads them without zod
 * (docs/decisions/0006-agent-runtime.md).
 */

export const NODE_GPU_ERROR_V1 = 'io.arcwatch.node.gpu-error.v1';

export function nodeGpuErrorSubject(cluster: string, node: string): string {
  return `aw.node.v1.gpu-errors.${subjectToken(cluster)}.${subjectToken(node)}`;
}

export const NODE_GPU_ERRORS_ALL = 'aw.node.v1.gpu-errors.>';

/**
 * One id per log line: the log's identity (name and inode) and the line's byte offset. A restarted
 * agent that reads the same line again publishes the same id.
 */
export function nodeGpuErrorId(node: string, logName: string, inode: number | string, offset: number): string {
  return deterministicId(NODE_GPU_ERROR_V1, node, logName, inode, offset);
}
