import { z } from 'zod';

export { NODE_GPU_ERROR_V1, NODE_GPU_ERRORS_ALL, nodeGpuErrorId, nodeGpuErrorSubject } from './gpu-error.names';

/**
 * A GPU error seen in a node's logs by the agent: a kernel NVRM Xid report, or an inference
 * engine's CUDA out-of-memory, model-load failure or crash. Published on
 * aw.node.v1.gpu-errors.<cluster>.<node> (stream AW_NODE), CloudEvents type
 * io.arcwatch.node.gpu-error.v1. The GPU is named with the labels of docs/gpu-labels.md, so the
 * console shows the error beside the GPU (or MIG slice) and rules join it to the GPU's series.
 */
export const GPU_ERROR_KINDS = ['xid', 'cuda_oom', 'model_load_failure', 'engine_crash'] as const;
export type GpuErrorKindV1 = (typeof GPU_ERROR_KINDS)[number];

export const nodeGpuErrorV1Schema = z.object({
  kind: z.enum(GPU_ERROR_KINDS),
  cluster: z.string().min(1),
  /** The node's hostname (dcgm-exporter's Hostname label). */
  node: z.string().min(1),
  /** When the agent read the line (the kernel's own timestamps are seconds since boot). */
  observedAt: z.iso.datetime({ offset: true }),
  /** Where the line came from: the kernel log, or an engine log with its engine's name. */
  source: z.object({
    kind: z.enum(['kernel', 'engine']),
    /** The configured name of the log (e.g. `kmsg`, `vllm-llama-70b`). */
    name: z.string().min(1),
    engine: z.string().optional(),
  }),
  /** The Xid number for kind `xid`; null otherwise. */
  xid: z.number().int().nonnegative().nullable(),
  /**
   * The GPU slot's labels (gpu, UUID, pci_bus_id, device, modelName, Hostname, and GPU_I_ID /
   * GPU_I_PROFILE / gpu_replica where they apply); null when the line names no GPU the agent knows.
   */
  gpu: z.record(z.string(), z.string()).nullable(),
  /** The PCI address the kernel line named (0000:3b:00), even when no GPU matched it. */
  pciAddress: z.string().nullable(),
  pid: z.number().int().nullable(),
  processName: z.string().nullable(),
  /** The message, without log prefixes, at most 500 characters. */
  message: z.string().max(500),
});
export type NodeGpuErrorV1 = z.infer<typeof nodeGpuErrorV1Schema>;
