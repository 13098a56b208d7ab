/**
 * One label schema for every unit of GPU capacity: a whole GPU, a MIG slice and a time-sliced
 * replica (docs/gpu-labels.md). The names are dcgm-exporter's so that its rules and dashboards
 * work unchanged on the agent's series; ArcWatch adds one label, `gpu_replica`, for time-slicing,
 * which dcgm-exporter has no notion of.
 *
 * - whole GPU: gpu, UUID, pci_bus_id, device, modelName, Hostname
 * - MIG slice: the parent GPU's labels plus GPU_I_ID and GPU_I_PROFILE (as dcgm-exporter prints)
 * - time-sliced replica: the labels of the GPU or slice it shares plus gpu_replica. Hardware
 *   series never carry it (a replica has no hardware of its own); workload series (engines,
 *   requests, cost) do, so they join the hardware series on the other labels.
 */
export interface GpuSlot {
  Hostname: string;
  /** nvidia-smi index of the physical GPU, as a decimal string. */
  gpu: string;
  /** The physical GPU's UUID (GPU-…), also for a MIG slice, as dcgm-exporter does. */
  UUID: string;
  /** nvidia-smi's form: 00000000:3B:00.0 */
  pci_bus_id: string;
  /** nvidia<minor>; dcgm-exporter's device label. */
  device: string;
  modelName: string;
  /** MIG GPU instance id; absent on a whole GPU. */
  GPU_I_ID?: string;
  /** MIG profile without the "MIG " prefix, e.g. 1g.10gb. */
  GPU_I_PROFILE?: string;
  /** Time-slicing replica number (0-based), from the device plugin's `<id>::<n>` resource names. */
  gpu_replica?: string;
}

export const GPU_SLOT_LABELS = [
  'gpu',
  'UUID',
  'pci_bus_id',
  'device',
  'modelName',
  'Hostname',
  'GPU_I_ID',
  'GPU_I_PROFILE',
  'gpu_replica',
] as const;

export type GpuSlotKind = 'gpu' | 'mig' | 'replica';

export function slotKind(s: Pick<GpuSlot, 'GPU_I_ID' | 'gpu_replica'>): GpuSlotKind {
  if (s.gpu_replica !== undefined) return 'replica';
  return s.GPU_I_ID !== undefined ? 'mig' : 'gpu';
}

/**
 * The identity of a slot as one string: `<Hostname>/<UUID>[/gi<GPU_I_ID>][/r<gpu_replica>]`.
 * Billing's inventory and the console key on it; the UUID alone would merge the slices of a GPU.
 */
export function slotKey(s: Pick<GpuSlot, 'Hostname' | 'UUID' | 'GPU_I_ID' | 'gpu_replica'>): string {
  let k = `${s.Hostname}/${s.UUID}`;
  if (s.GPU_I_ID !== undefined) k += `/gi${s.GPU_I_ID}`;
  if (s.gpu_replica !== undefined) k += `/r${s.gpu_replica}`;
  return k;
}

/** The labels of a slot as a plain record (absent optional labels are left out, never empty). */
export function slotLabels(s: GpuSlot): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of GPU_SLOT_LABELS) {
    const v = s[n];
    if (v !== undefined && v !== '') out[n] = v;
  }
  return out;
}

/** Reads a slot back from a series' labels; undefined when the GPU identity is missing. */
export function slotFromLabels(labels: Readonly<Record<string, string>>): GpuSlot | undefined {
  const { gpu, UUID, Hostname } = labels;
  if (gpu === undefined || UUID === undefined || Hostname === undefined) return undefined;
  const s: GpuSlot = {
    Hostname,
    gpu,
    UUID,
    pci_bus_id: labels.pci_bus_id ?? '',
    device: labels.device ?? `nvidia${gpu}`,
    modelName: labels.modelName ?? '',
  };
  if (labels.GPU_I_ID) s.GPU_I_ID = labels.GPU_I_ID;
  if (labels.GPU_I_PROFILE) s.GPU_I_PROFILE = labels.GPU_I_PROFILE;
  if (labels.gpu_replica) s.gpu_replica = labels.gpu_replica;
  return s;
}

/**
 * Time-sliced replicas as the NVIDIA k8s device plugin names them: `GPU-<uuid>::<n>` (and
 * `MIG-<uuid>::<n>` for a shared slice). Returns the device id and replica, or undefined for a
 * plain id.
 */
export function parseReplicaId(id: string): { deviceId: string; replica: string } | undefined {
  const m = /^(.+)::(\d+)$/.exec(id.trim());
  return m ? { deviceId: m[1]!, replica: m[2]! } : undefined;
}

/**
 * PCI addresses in one form for matching: nvidia-smi prints `00000000:3B:00.0`, the kernel's Xid
 * lines `0000:3b:00`. Both become `0000:3b:00` (domain's last 4 hex digits, bus, device).
 */
export function normalisePciBusId(raw: string): string | undefined {
  const m = /^(?:PCI:)?(?:([0-9a-fA-F]{4,8}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})(?:\.[0-7])?$/.exec(raw.trim());
  if (!m) return undefined;
  const domain = (m[1] ?? '0000').slice(-4).toLowerCase();
  return `${domain}:${m[2]!.toLowerCase()}:${m[3]!.toLowerCase()}`;
}
