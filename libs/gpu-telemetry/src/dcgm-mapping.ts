import { slotKey, slotLabels, normalisePciBusId, type GpuSlot } from './labels/gpu-labels';
import type { ListedMig, NvlinkCounter } from './nvidia-smi/list-and-nvlink';
import { METRIC_FIELDS, THROTTLE_REASON_BITS, type GpuReading, type QueryMetricField } from './nvidia-smi/query-gpu';
import type { QueryXmlResult, XmlGpuReading } from './nvidia-smi/query-xml';
import { SampleSet } from './sample-set';

/** One reading of a node's GPUs: what nvidia-smi said, before mapping. */
export interface GpuSnapshot {
  gpus: GpuReading[];
  xml?: QueryXmlResult;
  migs?: ListedMig[];
  nvlink?: NvlinkCounter[];
  /** False when `xml` is an earlier reading kept for its labels: its values are not sent again. */
  xmlFresh?: boolean;
}

export interface MappingOptions {
  hostname: string;
  /** Time-slicing replicas per physical GPU (1 or absent: not shared). */
  timeSliceReplicas?: number;
  /** dcgm-exporter prints the driver version as a label on every series (default-counters.csv). */
  driverVersionLabel?: boolean;
}

export const SLOT_INFO = 'arcwatch_gpu_slot_info';
const NVLINK_DCGM_TOTALS: Record<string, { metric: string; help: string }> = {
  replay_errors: { metric: 'DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL', help: 'Total number of NVLink retries.' },
  recovery_errors: {
    metric: 'DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL',
    help: 'Total number of NVLink recovery errors.',
  },
  crc_errors: {
    metric: 'DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL',
    help: 'Total number of NVLink flow-control CRC errors.',
  },
  crc_data_errors: {
    metric: 'DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL',
    help: 'Total number of NVLink data CRC errors.',
  },
};

function xmlFor(g: GpuReading, xml: QueryXmlResult | undefined): XmlGpuReading | undefined {
  if (!xml) return undefined;
  const pci = normalisePciBusId(g.pciBusId);
  return xml.gpus.find(
    (x) => (x.uuid !== undefined && x.uuid === g.uuid) || (pci !== undefined && normalisePciBusId(x.pciBusId) === pci),
  );
}

/** The whole-GPU slot of a reading. */
export function gpuSlot(g: GpuReading, hostname: string, x?: XmlGpuReading): GpuSlot {
  return {
    Hostname: hostname,
    gpu: g.index,
    UUID: g.uuid,
    pci_bus_id: g.pciBusId,
    device: `nvidia${x?.minorNumber ?? g.index}`,
    modelName: g.name,
  };
}

/** Every slot the snapshot shows: each GPU, each MIG slice, and each time-slice replica. */
export function snapshotSlots(s: GpuSnapshot, opts: MappingOptions): GpuSlot[] {
  const out: GpuSlot[] = [];
  const replicas = opts.timeSliceReplicas ?? 1;
  for (const g of s.gpus) {
    const x = xmlFor(g, s.xml);
    const base = gpuSlot(g, opts.hostname, x);
    const shareable: GpuSlot[] = [];
    const migs = x?.migDevices ?? [];
    if (g.migEnabled && migs.length > 0) {
      out.push(base);
      for (const m of migs) {
        const listed = s.migs?.find((l) => l.gpuIndex === g.index && l.deviceIndex === m.index);
        const slot: GpuSlot = { ...base, GPU_I_ID: m.gpuInstanceId };
        if (listed) slot.GPU_I_PROFILE = listed.profile;
        shareable.push(slot);
      }
    } else {
      shareable.push(base);
    }
    for (const slot of shareable) {
      out.push(slot);
      if (replicas > 1) for (let r = 0; r < replicas; r++) out.push({ ...slot, gpu_replica: String(r) });
    }
  }
  return out;
}

function field(metric: string): QueryMetricField | undefined {
  return METRIC_FIELDS.find((f) => f.metric === metric);
}

/** Maps a snapshot to dcgm-exporter's series names and labels. Absent readings give no sample. */
export function mapSnapshot(s: GpuSnapshot, opts: MappingOptions): SampleSet {
  const set = new SampleSet();
  const driver =
    opts.driverVersionLabel === false
      ? undefined
      : (s.xml?.driverVersion ?? s.gpus.find((g) => g.driverVersion)?.driverVersion);
  const withDriver = (l: Record<string, string>): Record<string, string> =>
    driver === undefined ? l : { ...l, DCGM_FI_DRIVER_VERSION: driver };

  const fresh = s.xmlFresh !== false;
  for (const g of s.gpus) {
    const x = xmlFor(g, s.xml);
    const labels = withDriver(slotLabels(gpuSlot(g, opts.hostname, x)));
    for (const f of METRIC_FIELDS) {
      const v = g.values.get(f.field);
      if (v !== undefined) set.add(f.metric, f.type, f.help, labels, v);
    }
    let mask = g.values.get('clocks_throttle_reasons.active');
    if (mask === undefined && fresh && x?.activeThrottleReasons !== undefined) {
      mask = 0;
      for (const [bit, name] of THROTTLE_REASON_BITS) if (x.activeThrottleReasons.includes(name)) mask |= bit;
      const f = field('DCGM_FI_DEV_CLOCK_THROTTLE_REASONS')!;
      set.add(f.metric, f.type, f.help, labels, mask);
    }
    if (mask !== undefined) {
      for (const [bit, reason] of THROTTLE_REASON_BITS) {
        set.add(
          'arcwatch_gpu_clock_event_reason_active',
          'gauge',
          '1 while the clocks are held down for this reason.',
          { ...labels, reason },
          mask & bit ? 1 : 0,
        );
      }
    }
    if (fresh && x?.pcieReplayCounter !== undefined) {
      set.add(
        'DCGM_FI_DEV_PCIE_REPLAY_COUNTER',
        'counter',
        'Total number of PCIe retries.',
        labels,
        x.pcieReplayCounter,
      );
    }
    if (g.migEnabled && fresh) {
      for (const m of x?.migDevices ?? []) {
        const listed = s.migs?.find((l) => l.gpuIndex === g.index && l.deviceIndex === m.index);
        const mig = withDriver(
          slotLabels({
            ...gpuSlot(g, opts.hostname, x),
            GPU_I_ID: m.gpuInstanceId,
            ...(listed ? { GPU_I_PROFILE: listed.profile } : {}),
          }),
        );
        const fb: Array<[string, number | undefined]> = [
          ['DCGM_FI_DEV_FB_TOTAL', m.fbTotalMiB],
          ['DCGM_FI_DEV_FB_USED', m.fbUsedMiB],
          ['DCGM_FI_DEV_FB_FREE', m.fbFreeMiB],
          ['DCGM_FI_DEV_FB_RESERVED', m.fbReservedMiB],
        ];
        for (const [metric, v] of fb) if (v !== undefined) set.add(metric, 'gauge', field(metric)!.help, mig, v);
      }
    }
  }

  for (const c of s.nvlink ?? []) {
    const g = s.gpus.find((r) => r.index === c.gpuIndex);
    if (!g) continue;
    const labels = withDriver(slotLabels(gpuSlot(g, opts.hostname, xmlFor(g, s.xml))));
    const dir = /^(data|raw)_(tx|rx)/.exec(c.counter);
    if (dir) {
      const bytes = c.unit === 'KiB' ? c.value * 1024 : c.unit === 'MiB' ? c.value * 1024 * 1024 : c.value;
      set.add(
        'arcwatch_gpu_nvlink_bytes_total',
        'counter',
        'NVLink bytes per link and direction since the counters were last reset (payload: data, with headers: raw).',
        { ...labels, link: String(c.link), direction: dir[2]!, kind: dir[1]! },
        bytes,
      );
    } else if (/errors?$/.test(c.counter)) {
      set.add(
        'arcwatch_gpu_nvlink_errors_total',
        'counter',
        'NVLink errors per link and kind.',
        { ...labels, link: String(c.link), error: c.counter.replace(/_errors?$/, '') },
        c.value,
      );
    }
  }
  // dcgm-exporter's NVLink error series are totals over the links of a GPU.
  const totals = new Map<string, { g: string; counter: string; value: number }>();
  for (const c of s.nvlink ?? []) {
    if (!NVLINK_DCGM_TOTALS[c.counter]) continue;
    const k = `${c.gpuIndex}\u0000${c.counter}`;
    const t = totals.get(k) ?? { g: c.gpuIndex, counter: c.counter, value: 0 };
    t.value += c.value;
    totals.set(k, t);
  }
  for (const t of totals.values()) {
    const g = s.gpus.find((r) => r.index === t.g);
    if (!g) continue;
    const d = NVLINK_DCGM_TOTALS[t.counter]!;
    set.add(d.metric, 'counter', d.help, withDriver(slotLabels(gpuSlot(g, opts.hostname, xmlFor(g, s.xml)))), t.value);
  }

  const slots = snapshotSlots(s, opts);
  const sliced = new Set(slots.filter((x) => x.GPU_I_ID !== undefined).map((x) => x.UUID));
  for (const slot of slots) {
    // A GPU split into MIG slices is listed too, as mig_parent: its capacity is its slices'.
    const kind =
      slot.gpu_replica !== undefined
        ? 'replica'
        : slot.GPU_I_ID !== undefined
          ? 'mig'
          : sliced.has(slot.UUID)
            ? 'mig_parent'
            : 'gpu';
    set.add(
      SLOT_INFO,
      'gauge',
      'One series per unit of GPU capacity (whole GPU, MIG slice, time-slice replica); value 1.',
      {
        ...slotLabels(slot),
        slot_kind: kind,
        slot_key: slotKey(slot),
      },
      1,
    );
  }
  return set;
}
