/**
 * `nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits`: one line per GPU, the values in
 * the order asked, separated by ", ". A value the GPU cannot give prints as `[N/A]`,
 * `[Not Supported]`, `[Unknown Error]`, `[Insufficient Permissions]` or `[GPU is lost]` (older
 * drivers without brackets); such a value yields no sample, never a 0.
 */

export type MetricKind = 'gauge' | 'counter';

export interface QueryMetricField {
  /** nvidia-smi's query name. */
  field: string;
  /** The dcgm-exporter name it becomes. */
  metric: string;
  type: MetricKind;
  help: string;
  /** How the text reads: a decimal number, a P-state (`P2` → 2) or a hex bitmask. */
  read?: 'number' | 'pstate' | 'hex';
}

/** Identity columns: they become labels, not samples. Always asked first, in this order. */
export const IDENTITY_FIELDS = ['index', 'uuid', 'name', 'pci.bus_id', 'driver_version', 'mig.mode.current'] as const;

/**
 * The readings asked for and the DCGM field each maps to (names and help texts as in
 * dcgm-exporter's counter CSVs, units as nvidia-smi prints them with `nounits`, which are DCGM's:
 * MiB, MHz, W, °C, %).
 */
export const METRIC_FIELDS: readonly QueryMetricField[] = [
  { field: 'utilization.gpu', metric: 'DCGM_FI_DEV_GPU_UTIL', type: 'gauge', help: 'GPU utilization (in %).' },
  {
    field: 'utilization.memory',
    metric: 'DCGM_FI_DEV_MEM_COPY_UTIL',
    type: 'gauge',
    help: 'Memory utilization (in %).',
  },
  { field: 'utilization.encoder', metric: 'DCGM_FI_DEV_ENC_UTIL', type: 'gauge', help: 'Encoder utilization (in %).' },
  { field: 'utilization.decoder', metric: 'DCGM_FI_DEV_DEC_UTIL', type: 'gauge', help: 'Decoder utilization (in %).' },
  { field: 'memory.total', metric: 'DCGM_FI_DEV_FB_TOTAL', type: 'gauge', help: 'Framebuffer memory total (in MiB).' },
  { field: 'memory.used', metric: 'DCGM_FI_DEV_FB_USED', type: 'gauge', help: 'Framebuffer memory used (in MiB).' },
  { field: 'memory.free', metric: 'DCGM_FI_DEV_FB_FREE', type: 'gauge', help: 'Framebuffer memory free (in MiB).' },
  {
    field: 'memory.reserved',
    metric: 'DCGM_FI_DEV_FB_RESERVED',
    type: 'gauge',
    help: 'Framebuffer memory reserved (in MiB).',
  },
  { field: 'temperature.gpu', metric: 'DCGM_FI_DEV_GPU_TEMP', type: 'gauge', help: 'GPU temperature (in C).' },
  { field: 'temperature.memory', metric: 'DCGM_FI_DEV_MEMORY_TEMP', type: 'gauge', help: 'Memory temperature (in C).' },
  { field: 'power.draw', metric: 'DCGM_FI_DEV_POWER_USAGE', type: 'gauge', help: 'Power draw (in W).' },
  {
    field: 'enforced.power.limit',
    metric: 'DCGM_FI_DEV_ENFORCED_POWER_LIMIT',
    type: 'gauge',
    help: 'Enforced power limit (in W).',
  },
  { field: 'clocks.sm', metric: 'DCGM_FI_DEV_SM_CLOCK', type: 'gauge', help: 'SM clock frequency (in MHz).' },
  { field: 'clocks.mem', metric: 'DCGM_FI_DEV_MEM_CLOCK', type: 'gauge', help: 'Memory clock frequency (in MHz).' },
  { field: 'fan.speed', metric: 'DCGM_FI_DEV_FAN_SPEED', type: 'gauge', help: 'Fan speed (in %).' },
  {
    field: 'pstate',
    metric: 'DCGM_FI_DEV_PSTATE',
    type: 'gauge',
    help: 'Performance state (P-state) 0-15.',
    read: 'pstate',
  },
  {
    field: 'pcie.link.gen.current',
    metric: 'DCGM_FI_DEV_PCIE_LINK_GEN',
    type: 'gauge',
    help: 'PCIe current link generation.',
  },
  {
    field: 'pcie.link.width.current',
    metric: 'DCGM_FI_DEV_PCIE_LINK_WIDTH',
    type: 'gauge',
    help: 'PCIe current link width.',
  },
  {
    field: 'ecc.errors.corrected.volatile.total',
    metric: 'DCGM_FI_DEV_ECC_SBE_VOL_TOTAL',
    type: 'counter',
    help: 'Total number of single-bit volatile ECC errors.',
  },
  {
    field: 'ecc.errors.uncorrected.volatile.total',
    metric: 'DCGM_FI_DEV_ECC_DBE_VOL_TOTAL',
    type: 'counter',
    help: 'Total number of double-bit volatile ECC errors.',
  },
  {
    field: 'ecc.errors.corrected.aggregate.total',
    metric: 'DCGM_FI_DEV_ECC_SBE_AGG_TOTAL',
    type: 'counter',
    help: 'Total number of single-bit persistent ECC errors.',
  },
  {
    field: 'ecc.errors.uncorrected.aggregate.total',
    metric: 'DCGM_FI_DEV_ECC_DBE_AGG_TOTAL',
    type: 'counter',
    help: 'Total number of double-bit persistent ECC errors.',
  },
  {
    field: 'clocks_throttle_reasons.active',
    metric: 'DCGM_FI_DEV_CLOCK_THROTTLE_REASONS',
    type: 'gauge',
    help: 'Current clock throttle reasons (bitmask of NVML clocks-event reasons).',
    read: 'hex',
  },
];

/** NVML's clocks-event (throttle) reason bits, as `clocks_throttle_reasons.*` names them. */
export const THROTTLE_REASON_BITS: ReadonlyArray<readonly [number, string]> = [
  [0x1, 'gpu_idle'],
  [0x2, 'applications_clocks_setting'],
  [0x4, 'sw_power_cap'],
  [0x8, 'hw_slowdown'],
  [0x10, 'sync_boost'],
  [0x20, 'sw_thermal_slowdown'],
  [0x40, 'hw_thermal_slowdown'],
  [0x80, 'hw_power_brake_slowdown'],
  [0x100, 'display_clock_setting'],
];

export interface GpuReading {
  index: string;
  uuid: string;
  name: string;
  pciBusId: string;
  driverVersion?: string;
  migEnabled: boolean;
  /** Readable values by query field; a field that printed N/A or similar is absent. */
  values: Map<string, number>;
}

export interface QueryGpuResult {
  gpus: GpuReading[];
  /** Lines that could not be read, with why (never thrown: one bad line must not hide the others). */
  problems: string[];
}

/** The fields to ask for: identity first, then the metric fields still accepted by this driver. */
export function queryFieldList(metricFields: readonly QueryMetricField[] = METRIC_FIELDS): string[] {
  return [...IDENTITY_FIELDS, ...metricFields.map((f) => f.field)];
}

const UNAVAILABLE = /^\[.*\]$|^(N\/A|Not Supported|Unknown Error|Insufficient Permissions|GPU is lost)$/i;

/** A value as text, or undefined when nvidia-smi said it has none. */
export function availableText(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const t = raw.trim();
  return t === '' || UNAVAILABLE.test(t) ? undefined : t;
}

/** Reads one value; undefined for an unavailable or unreadable one. */
export function readValue(raw: string | undefined, how: QueryMetricField['read'] = 'number'): number | undefined {
  const t = availableText(raw);
  if (t === undefined) return undefined;
  if (how === 'pstate') {
    const m = /^P(\d{1,2})$/.exec(t);
    return m ? Number(m[1]) : undefined;
  }
  if (how === 'hex') {
    if (!/^0x[0-9a-fA-F]{1,16}$/.test(t)) return undefined;
    return Number(BigInt(t));
  }
  if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

/** Parses the output of a query made with `fields` (as returned by queryFieldList). */
export function parseQueryGpu(
  stdout: string,
  fields: readonly string[],
  metricFields: readonly QueryMetricField[] = METRIC_FIELDS,
): QueryGpuResult {
  const gpus: GpuReading[] = [];
  const problems: string[] = [];
  const byField = new Map(metricFields.map((f) => [f.field, f]));
  const lines = stdout.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== fields.length) {
      problems.push(`line ${i + 1}: ${cells.length} values for ${fields.length} fields`);
      continue;
    }
    const cell = (f: string): string | undefined => cells[fields.indexOf(f)];
    const index = availableText(cell('index'));
    const uuid = availableText(cell('uuid'));
    if (index === undefined || !/^\d+$/.test(index) || uuid === undefined) {
      problems.push(`line ${i + 1}: no GPU index or UUID`);
      continue;
    }
    const values = new Map<string, number>();
    for (let c = 0; c < fields.length; c++) {
      const spec = byField.get(fields[c]!);
      if (!spec) continue;
      const v = readValue(cells[c], spec.read);
      if (v !== undefined) values.set(spec.field, v);
    }
    const driver = availableText(cell('driver_version'));
    gpus.push({
      index,
      uuid,
      name: availableText(cell('name')) ?? '',
      pciBusId: availableText(cell('pci.bus_id')) ?? '',
      ...(driver === undefined ? {} : { driverVersion: driver }),
      migEnabled: availableText(cell('mig.mode.current')) === 'Enabled',
      values,
    });
  }
  return { gpus, problems };
}

/**
 * nvidia-smi refuses the whole query when one field is unknown to this driver
 * (`Field "utilization.encoder" is not a valid field to query.`): the name, so the caller can
 * drop it and ask again.
 */
export function invalidQueryField(output: string): string | undefined {
  const m = /Field "([^"]+)" is not a valid field to query/.exec(output);
  return m?.[1];
}
