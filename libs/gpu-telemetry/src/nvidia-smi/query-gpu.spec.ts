import { invalidQueryField, parseQueryGpu, queryFieldList, readValue } from './query-gpu';

describe('nvidia-smi --query-gpu CSV', () => {
  const fields = queryFieldList();

  it('reads unavailable values as absent, never as 0', () => {
    for (const raw of [
      '[N/A]',
      '[Not Supported]',
      'N/A',
      '[Unknown Error]',
      '[GPU is lost]',
      '[Insufficient Permissions]',
      '',
      ' ',
    ]) {
      expect(readValue(raw)).toBeUndefined();
    }
    expect(readValue('0')).toBe(0);
    expect(readValue(' 612.45 ')).toBe(612.45);
    expect(readValue('12 %')).toBeUndefined();
    expect(readValue('P8', 'pstate')).toBe(8);
    expect(readValue('0x0000000000000004', 'hex')).toBe(4);
    expect(readValue('[N/A]', 'hex')).toBeUndefined();
  });

  it('keeps a GPU whose line has [N/A] fields and leaves those fields out', () => {
    const values = fields.map((f) => {
      if (f === 'index') return '0';
      if (f === 'uuid') return 'GPU-aaaa';
      if (f === 'name') return 'NVIDIA L4';
      if (f === 'pci.bus_id') return '00000000:31:00.0';
      if (f === 'fan.speed' || f === 'temperature.memory') return '[N/A]';
      if (f === 'ecc.errors.corrected.aggregate.total') return '[Not Supported]';
      if (f === 'pstate') return 'P8';
      if (f === 'clocks_throttle_reasons.active') return '0x0000000000000001';
      if (f === 'mig.mode.current') return '[N/A]';
      if (f === 'driver_version') return '580.105.08';
      return '7';
    });
    const r = parseQueryGpu(values.join(', ') + '\n', fields);
    expect(r.problems).toEqual([]);
    expect(r.gpus).toHaveLength(1);
    const g = r.gpus[0]!;
    expect(g.values.has('fan.speed')).toBe(false);
    expect(g.values.has('temperature.memory')).toBe(false);
    expect(g.values.has('ecc.errors.corrected.aggregate.total')).toBe(false);
    expect(g.values.get('pstate')).toBe(8);
    expect(g.values.get('utilization.gpu')).toBe(7);
    expect(g.migEnabled).toBe(false);
    expect(g.driverVersion).toBe('580.105.08');
  });

  it('reports a short line and a line without a UUID, and keeps the good ones', () => {
    const good = fields.map((f) => (f === 'index' ? '1' : f === 'uuid' ? 'GPU-b' : '1')).join(', ');
    const noUuid = fields.map((f) => (f === 'index' ? '2' : f === 'uuid' ? '[N/A]' : '1')).join(', ');
    const r = parseQueryGpu(`0, GPU-a, 3\n${good}\n${noUuid}\n`, fields);
    expect(r.gpus.map((g) => g.uuid)).toEqual(['GPU-b']);
    expect(r.problems).toEqual([`line 1: 3 values for ${fields.length} fields`, 'line 3: no GPU index or UUID']);
  });

  it("names the field a driver refuses, from nvidia-smi's message", () => {
    expect(invalidQueryField('Field "utilization.encoder" is not a valid field to query.\n')).toBe(
      'utilization.encoder',
    );
    expect(invalidQueryField('No devices were found')).toBeUndefined();
  });
});
