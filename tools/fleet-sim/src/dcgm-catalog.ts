/**
 * The dcgm-exporter families the simulator serves: the exporter's default counter set
 * (etc/default-counters.csv) as an H100 SXM node exposes it, in the exporter's output order.
 * `format` follows the exporter: integer fields print with %d, float fields with %f.
 */
export type DcgmField =
  | 'smClock'
  | 'memClock'
  | 'memoryTemp'
  | 'gpuTemp'
  | 'power'
  | 'energy'
  | 'pcieReplay'
  | 'gpuUtil'
  | 'memCopyUtil'
  | 'encUtil'
  | 'decUtil'
  | 'xid'
  | 'fbFree'
  | 'fbUsed'
  | 'fbReserved'
  | 'nvlinkBandwidth'
  | 'vgpuLicense'
  | 'uncorrectableRemappedRows'
  | 'correctableRemappedRows'
  | 'rowRemapFailure'
  | 'grEngineActive'
  | 'tensorActive'
  | 'dramActive'
  | 'pcieTxBytes'
  | 'pcieRxBytes';

export interface DcgmFamily {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  format: 'int' | 'fixed6';
  field: DcgmField;
}

const f = (
  name: string,
  type: DcgmFamily['type'],
  format: DcgmFamily['format'],
  field: DcgmField,
  help: string,
): DcgmFamily => ({
  name,
  type,
  help,
  format,
  field,
});

export const DCGM_FAMILIES: readonly DcgmFamily[] = [
  f('DCGM_FI_DEV_SM_CLOCK', 'gauge', 'int', 'smClock', 'SM clock frequency (in MHz).'),
  f('DCGM_FI_DEV_MEM_CLOCK', 'gauge', 'int', 'memClock', 'Memory clock frequency (in MHz).'),
  f('DCGM_FI_DEV_MEMORY_TEMP', 'gauge', 'int', 'memoryTemp', 'Memory temperature (in C).'),
  f('DCGM_FI_DEV_GPU_TEMP', 'gauge', 'int', 'gpuTemp', 'GPU temperature (in C).'),
  f('DCGM_FI_DEV_POWER_USAGE', 'gauge', 'fixed6', 'power', 'Power draw (in W).'),
  f('DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION', 'counter', 'int', 'energy', 'Total energy consumption since boot (in mJ).'),
  f('DCGM_FI_DEV_PCIE_REPLAY_COUNTER', 'counter', 'int', 'pcieReplay', 'Total number of PCIe retries.'),
  f('DCGM_FI_DEV_GPU_UTIL', 'gauge', 'int', 'gpuUtil', 'GPU utilization (in %).'),
  f('DCGM_FI_DEV_MEM_COPY_UTIL', 'gauge', 'int', 'memCopyUtil', 'Memory utilization (in %).'),
  f('DCGM_FI_DEV_ENC_UTIL', 'gauge', 'int', 'encUtil', 'Encoder utilization (in %).'),
  f('DCGM_FI_DEV_DEC_UTIL', 'gauge', 'int', 'decUtil', 'Decoder utilization (in %).'),
  f('DCGM_FI_DEV_XID_ERRORS', 'gauge', 'int', 'xid', 'Value of the last XID error encountered.'),
  f('DCGM_FI_DEV_FB_FREE', 'gauge', 'int', 'fbFree', 'Framebuffer memory free (in MiB).'),
  f('DCGM_FI_DEV_FB_USED', 'gauge', 'int', 'fbUsed', 'Framebuffer memory used (in MiB).'),
  f('DCGM_FI_DEV_FB_RESERVED', 'gauge', 'int', 'fbReserved', 'Framebuffer memory reserved (in MiB).'),
  f(
    'DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL',
    'counter',
    'int',
    'nvlinkBandwidth',
    'Total number of NVLink bandwidth counters for all lanes.',
  ),
  f('DCGM_FI_DEV_VGPU_LICENSE_STATUS', 'gauge', 'int', 'vgpuLicense', 'vGPU License status'),
  f(
    'DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS',
    'counter',
    'int',
    'uncorrectableRemappedRows',
    'Number of remapped rows for uncorrectable errors',
  ),
  f(
    'DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS',
    'counter',
    'int',
    'correctableRemappedRows',
    'Number of remapped rows for correctable errors',
  ),
  f('DCGM_FI_DEV_ROW_REMAP_FAILURE', 'gauge', 'int', 'rowRemapFailure', 'Whether remapping of rows has failed'),
  f(
    'DCGM_FI_PROF_GR_ENGINE_ACTIVE',
    'gauge',
    'fixed6',
    'grEngineActive',
    'Ratio of time the graphics engine is active.',
  ),
  f(
    'DCGM_FI_PROF_PIPE_TENSOR_ACTIVE',
    'gauge',
    'fixed6',
    'tensorActive',
    'Ratio of cycles the tensor (HMMA) pipe is active.',
  ),
  f(
    'DCGM_FI_PROF_DRAM_ACTIVE',
    'gauge',
    'fixed6',
    'dramActive',
    'Ratio of cycles the device memory interface is active sending or receiving data.',
  ),
  f(
    'DCGM_FI_PROF_PCIE_TX_BYTES',
    'gauge',
    'int',
    'pcieTxBytes',
    'The rate of data transmitted over the PCIe bus - including both protocol headers and data payloads - in bytes per second.',
  ),
  f(
    'DCGM_FI_PROF_PCIE_RX_BYTES',
    'gauge',
    'int',
    'pcieRxBytes',
    'The rate of data received over the PCIe bus - including both protocol headers and data payloads - in bytes per second.',
  ),
];

/** Label order as dcgm-exporter writes it. */
export const DCGM_LABEL_ORDER = [
  'gpu',
  'UUID',
  'pci_bus_id',
  'device',
  'modelName',
  'Hostname',
  'DCGM_FI_DRIVER_VERSION',
] as const;

export type DcgmValues = Record<DcgmField, number>;
