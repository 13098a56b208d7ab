import { relabelConfigSchema } from '../config/scrape-config.schema';
import { compileRules, expandTemplate, relabel } from './relabel';

const rules = (...raw: object[]) => compileRules(raw.map((r) => relabelConfigSchema.parse(r)));

describe('metric relabelling', () => {
  const gpu = { __name__: 'DCGM_FI_DEV_GPU_UTIL', gpu: '0', UUID: 'GPU-1', Hostname: 'node-7', modelName: 'NVIDIA L4' };

  it('keeps only series whose joined source labels match the whole regex', () => {
    const keep = rules({ action: 'keep', source_labels: ['__name__'], regex: 'DCGM_FI_DEV_(GPU_UTIL|FB_USED)' });
    expect(relabel(gpu, keep)).toEqual(gpu);
    expect(relabel({ ...gpu, __name__: 'DCGM_FI_DEV_GPU_UTIL_X' }, keep)).toBeUndefined();
  });

  it('drops series that match', () => {
    const drop = rules({ action: 'drop', source_labels: ['__name__', 'gpu'], separator: '/', regex: 'DCGM_.*/0' });
    expect(relabel(gpu, drop)).toBeUndefined();
    expect(relabel({ ...gpu, gpu: '1' }, drop)).toEqual({ ...gpu, gpu: '1' });
  });

  it('replaces with capture groups, and deletes the target when the replacement is empty', () => {
    const r = rules(
      {
        action: 'replace',
        source_labels: ['Hostname'],
        regex: 'node-(\\d+)',
        target_label: 'node_index',
        replacement: 'n${1}',
      },
      { action: 'replace', source_labels: ['missing'], regex: '', target_label: 'modelName', replacement: '' },
    );
    expect(relabel(gpu, r)).toEqual({
      __name__: 'DCGM_FI_DEV_GPU_UTIL',
      gpu: '0',
      UUID: 'GPU-1',
      Hostname: 'node-7',
      node_index: 'n7',
    });
  });

  it('leaves the labels alone when a replace regex does not match', () => {
    const r = rules({ action: 'replace', source_labels: ['Hostname'], regex: 'gpu-(.*)', target_label: 'x' });
    expect(relabel(gpu, r)).toEqual(gpu);
  });

  it('labeldrop and labelkeep act on label names', () => {
    expect(relabel(gpu, rules({ action: 'labeldrop', regex: 'UUID|Hostname' }))).toEqual({
      __name__: 'DCGM_FI_DEV_GPU_UTIL',
      gpu: '0',
      modelName: 'NVIDIA L4',
    });
    expect(relabel(gpu, rules({ action: 'labelkeep', regex: '__name__|gpu' }))).toEqual({
      __name__: 'DCGM_FI_DEV_GPU_UTIL',
      gpu: '0',
    });
  });

  it("labelmap copies labels under new names; hashmod is Prometheus's md5 sharding", () => {
    expect(
      relabel({ __meta_kube_label_app: 'vllm' }, rules({ action: 'labelmap', regex: '__meta_kube_label_(.+)' })),
    ).toEqual({ __meta_kube_label_app: 'vllm', app: 'vllm' });
    const shard = rules({ action: 'hashmod', source_labels: ['__address__'], modulus: 8, target_label: '__tmp_hash' });
    const a = relabel({ __address__: '10.0.0.1:9400' }, shard)?.__tmp_hash;
    expect(Number(a)).toBeGreaterThanOrEqual(0);
    expect(Number(a)).toBeLessThan(8);
    expect(relabel({ __address__: '10.0.0.1:9400' }, shard)?.__tmp_hash).toBe(a);
  });

  it('does not change the input label set', () => {
    const input = { __name__: 'x', empty: '' };
    expect(relabel(input, [])).toEqual({ __name__: 'x' });
    expect(input).toEqual({ __name__: 'x', empty: '' });
  });

  it('expands Go-style templates', () => {
    const m = /^(?<host>[^:]+):(\d+)$/.exec('gpu-3:9400') as RegExpExecArray;
    expect(expandTemplate('$host-$2-${1}x-$$', m)).toBe('gpu-3-9400-gpu-3x-$');
  });
});
