import { StalenessTracker } from './staleness';

const s = (name: string, gpu: string) => ({ labels: { __name__: name, gpu } });

describe('staleness of series that disappear', () => {
  it('marks the series of a GPU that is gone, once', () => {
    const t = new StalenessTracker();
    expect(t.update([s('util', '0'), s('util', '1'), s('temp', '0'), s('temp', '1')])).toEqual([]);
    expect(t.update([s('util', '0'), s('temp', '0')])).toEqual([
      { __name__: 'util', gpu: '1' },
      { __name__: 'temp', gpu: '1' },
    ]);
    expect(t.update([s('util', '0'), s('temp', '0')])).toEqual([]);
  });

  it('leaves alone a family that is only sent some intervals', () => {
    const t = new StalenessTracker();
    t.update([s('util', '0'), s('nvlink', '0')]);
    expect(t.update([s('util', '0')])).toEqual([]);
    expect(t.update([s('util', '0'), s('nvlink', '0')])).toEqual([]);
  });

  it('marks everything seen before when the whole reading failed', () => {
    const t = new StalenessTracker();
    t.update([s('util', '0'), s('nvlink', '0'), s('status', 'x')]);
    expect(t.update([s('status', 'x')], { everything: true })).toEqual([
      { __name__: 'util', gpu: '0' },
      { __name__: 'nvlink', gpu: '0' },
    ]);
    expect(t.update([s('status', 'x')], { everything: true })).toEqual([]);
  });
});
