import { availableText } from './query-gpu';
import { child, childText, childrenNamed, parseXml, type XmlElement } from './xml-tree';

/**
 * What the agent reads from `nvidia-smi -q -x` (nvsmi_device_v12.dtd): the MIG devices of each
 * GPU with their memory, the named clock-event (throttle) reasons, the PCIe replay counter and the
 * minor number (dcgm-exporter's `device="nvidia<minor>"`). Everything else comes from --query-gpu.
 */
export interface MigDeviceReading {
  /** nvidia-smi's MIG device index within its GPU (`Device N` in `nvidia-smi -L`). */
  index: string;
  gpuInstanceId: string;
  computeInstanceId?: string;
  multiprocessorCount?: number;
  fbTotalMiB?: number;
  fbUsedMiB?: number;
  fbFreeMiB?: number;
  fbReservedMiB?: number;
}

export interface XmlGpuReading {
  /** The `id` attribute: the PCI bus id, e.g. 00000000:3B:00.0. */
  pciBusId: string;
  uuid?: string;
  minorNumber?: string;
  productName?: string;
  migEnabled: boolean;
  migDevices: MigDeviceReading[];
  /** Reasons printed `Active` (names without the clocks_event_reason_ / clocks_throttle_reason_ prefix). */
  activeThrottleReasons?: string[];
  pcieReplayCounter?: number;
}

export interface QueryXmlResult {
  driverVersion?: string;
  gpus: XmlGpuReading[];
}

/** `40448 MiB`, `12 %`, `300.00 W`, `5`: the leading number; undefined for N/A and the like. */
export function leadingNumber(raw: string | undefined): number | undefined {
  const t = availableText(raw);
  if (t === undefined) return undefined;
  const m = /^([-+]?\d+(?:\.\d+)?)(?:\s|$)/.exec(t);
  return m ? Number(m[1]) : undefined;
}

function migDevice(el: XmlElement): MigDeviceReading | undefined {
  const index = availableText(childText(el, 'index'));
  const gi = availableText(childText(el, 'gpu_instance_id'));
  if (index === undefined || gi === undefined) return undefined;
  const fb = child(el, 'fb_memory_usage');
  const d: MigDeviceReading = { index, gpuInstanceId: gi };
  const ci = availableText(childText(el, 'compute_instance_id'));
  if (ci !== undefined) d.computeInstanceId = ci;
  const set = (
    k: 'multiprocessorCount' | 'fbTotalMiB' | 'fbUsedMiB' | 'fbFreeMiB' | 'fbReservedMiB',
    v: number | undefined,
  ): void => {
    if (v !== undefined) d[k] = v;
  };
  set('multiprocessorCount', leadingNumber(childText(el, 'device_attributes', 'shared', 'multiprocessor_count')));
  set('fbTotalMiB', leadingNumber(childText(fb, 'total')));
  set('fbUsedMiB', leadingNumber(childText(fb, 'used')));
  set('fbFreeMiB', leadingNumber(childText(fb, 'free')));
  set('fbReservedMiB', leadingNumber(childText(fb, 'reserved')));
  return d;
}

function throttleReasons(gpu: XmlElement): string[] | undefined {
  // Renamed from clocks_throttle_reasons to clocks_event_reasons in R535; both are read.
  const block = child(gpu, 'clocks_event_reasons') ?? child(gpu, 'clocks_throttle_reasons');
  if (!block) return undefined;
  const active: string[] = [];
  for (const c of block.children) {
    const name = c.name
      .replace(/^clocks?_(event|throttle)_reasons?_/, '')
      .replace(/^display_clocks_setting$/, 'display_clock_setting');
    if (c.text.trim() === 'Active') active.push(name);
  }
  return active;
}

export function parseQueryXml(xml: string): QueryXmlResult {
  const root = parseXml(xml);
  const log = child(root, 'nvidia_smi_log');
  const gpus: XmlGpuReading[] = [];
  for (const g of childrenNamed(log, 'gpu')) {
    const migDevices: MigDeviceReading[] = [];
    // `<mig_devices>None</mig_devices>` when MIG is off: no children, nothing to read.
    for (const d of childrenNamed(child(g, 'mig_devices'), 'mig_device')) {
      const r = migDevice(d);
      if (r) migDevices.push(r);
    }
    const reading: XmlGpuReading = {
      pciBusId: g.attrs.id ?? availableText(childText(g, 'pci', 'pci_bus_id')) ?? '',
      migEnabled: availableText(childText(g, 'mig_mode', 'current_mig')) === 'Enabled',
      migDevices,
    };
    const uuid = availableText(childText(g, 'uuid'));
    if (uuid !== undefined) reading.uuid = uuid;
    const minor = availableText(childText(g, 'minor_number'));
    if (minor !== undefined) reading.minorNumber = minor;
    const product = availableText(childText(g, 'product_name'));
    if (product !== undefined) reading.productName = product;
    const reasons = throttleReasons(g);
    if (reasons !== undefined) reading.activeThrottleReasons = reasons;
    const replay = leadingNumber(childText(g, 'pci', 'replay_counter'));
    if (replay !== undefined) reading.pcieReplayCounter = replay;
    gpus.push(reading);
  }
  const driver = availableText(childText(log, 'driver_version'));
  return { ...(driver === undefined ? {} : { driverVersion: driver }), gpus };
}
