/**
 * A node's dcgm-exporter /metrics page: family by family in the exporter's order, one sample per
 * GPU, with the exporter's labels (the driver version rides along as a label, as the `label`
 * rows of its counter CSV make it do).
 */
import { DCGM_FAMILIES, DCGM_LABEL_ORDER, type DcgmValues } from './dcgm-catalog';
import { type FamilyLine, familyBlock, formatLabels, goFixed6, goInt } from './exposition-text';
import { DRIVER_VERSION, GPU_MODEL_NAME, type NodeSpec } from './topology';

export function renderDcgm(node: NodeSpec, values: readonly DcgmValues[]): string {
  const labelStrings = node.gpus.map((g) =>
    formatLabels(
      {
        gpu: String(g.index),
        UUID: g.uuid,
        pci_bus_id: g.pciBusId,
        device: `nvidia${g.index}`,
        modelName: GPU_MODEL_NAME,
        Hostname: node.hostname,
        DCGM_FI_DRIVER_VERSION: DRIVER_VERSION,
      },
      DCGM_LABEL_ORDER,
    ),
  );
  let out = '';
  for (const fam of DCGM_FAMILIES) {
    const fmt = fam.format === 'int' ? goInt : goFixed6;
    const lines: FamilyLine[] = values.map((v, i) => ({
      name: fam.name,
      labels: labelStrings[i],
      value: fmt(v[fam.field]),
    }));
    out += familyBlock(fam.name, fam.type, fam.help, lines);
  }
  return out;
}
