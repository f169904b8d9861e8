/**
 * The ensemble: honest on clean models, a model mildly off on several channels rises above one that is
 * equally off on one channel only, explanations are filled, and the saved form restores identical verdicts.
 */
import { Rng } from '../../src/probes/rng.js';
import { InputError } from '../../src/errors.js';
import {
  defaultEnsembleConfig,
  deserializeEnsemble,
  fitEnsemble,
  scoreEnsemble,
  serializeEnsemble,
  type EnsembleConfig,
} from '../../src/score/ensemble.js';

type Blocks = Record<string, Float32Array>;

function model(rng: Rng, shift: Record<string, number> = {}): Blocks {
  const b = (name: string, d: number) =>
    Float32Array.from({ length: d }, () => rng.normal() + (shift[name] ?? 0));
  return { a: b('a', 16), b: b('b', 16), c: b('c', 16), 'self:trigger': b('self:trigger', 1) };
}

const rng = new Rng(11);
const refs = Array.from({ length: 60 }, () => model(rng));
const ids = refs.map((_, i) => `clean-${i}`);
const config: EnsembleConfig = {
  channels: [
    { representation: 'a', detector: 'knn', params: { k: 5 } },
    { representation: 'b', detector: 'knn', params: { k: 5 } },
    { representation: 'c', detector: 'knn', params: { k: 5 } },
    { representation: 'self:trigger', detector: 'identity' },
  ],
};
const state = fitEnsemble(refs, ids, config);

describe('ensemble', () => {
  it('a model shifted mildly on several channels scores higher than one shifted on a single channel', () => {
    const r = new Rng(12);
    let several = 0;
    let single = 0;
    for (let t = 0; t < 20; t++) {
      several += scoreEnsemble(state, model(r, { a: 0.5, b: 0.5, c: 0.5 })).riskScore;
      single += scoreEnsemble(state, model(r, { a: 0.5 })).riskScore;
    }
    expect(several).toBeGreaterThan(single);
    const clean = scoreEnsemble(state, model(new Rng(13)));
    expect(clean.riskScore).toBeLessThan(
      scoreEnsemble(state, model(new Rng(13), { a: 1, b: 1, c: 1 })).riskScore,
    );
  });

  it('calls few clean models high (about the nominal rate)', () => {
    const r = new Rng(14);
    let high = 0;
    const n = 150;
    for (let t = 0; t < n; t++) if (scoreEnsemble(state, model(r)).riskLevel === 'high') high++;
    expect(high / n).toBeLessThan(0.06);
  });

  it('fills channels, drivers sorted by p, nearest references and the rank floor', () => {
    const v = scoreEnsemble(state, model(new Rng(15), { b: 3 }));
    expect(Object.keys(v.channels).sort()).toEqual(['identity@self:trigger', 'knn@a', 'knn@b', 'knn@c']);
    expect(v.drivers[0].channel).toBe('knn@b');
    for (let i = 1; i < v.drivers.length; i++)
      expect(v.drivers[i].pValue).toBeGreaterThanOrEqual(v.drivers[i - 1].pValue);
    expect(v.nearest).toHaveLength(3);
    expect(v.nearest[0].distance).toBeLessThanOrEqual(v.nearest[1].distance);
    expect(v.minRankPValue).toBeCloseTo(1 / 61, 12);
    expect(v.riskLevel).toBe('high');
    expect(v.pValue).toBeLessThan(v.minRankPValue);
  });

  it('round-trips through serialize/deserialize (JSON + typed arrays) with identical verdicts', () => {
    const full = fitEnsemble(refs, ids, {
      channels: [
        { representation: 'a', detector: 'lof', params: { k: 10 } },
        { representation: 'a', detector: 'ocsvm' },
        { representation: 'b', detector: 'pca_mahalanobis' },
        { representation: 'b', detector: 'isolation_forest', params: { trees: 20 } },
        { representation: 'c', detector: 'gmm', params: { components: 2 } },
        { representation: 'c', detector: 'autoencoder', params: { epochs: 50 } },
        { representation: 'c', detector: 'knn' },
        { representation: 'a', detector: 'distance_to_clean_mean' },
        { representation: 'self:trigger', detector: 'identity' },
      ],
    });
    const { json, arrays } = serializeEnsemble(full);
    const text = JSON.stringify(json);
    expect(text.length).toBeLessThan(20_000); // big arrays are kept out of the JSON
    const back = deserializeEnsemble(JSON.parse(text), arrays);
    const q = model(new Rng(16), { a: 0.7 });
    expect(scoreEnsemble(back, q)).toEqual(scoreEnsemble(full, q));
  });

  it('uses the configured combination rule and keeps it through serialisation', () => {
    const minP = fitEnsemble(refs, ids, { ...config, combine: { rule: 'min-p' } });
    const q = model(new Rng(20), { c: 0.8 });
    const v = scoreEnsemble(minP, q);
    expect(v.statistic).toBeCloseTo(-Math.log(Math.min(...v.drivers.map((d) => d.pValue))), 12);
    const { json, arrays } = serializeEnsemble(minP);
    expect(scoreEnsemble(deserializeEnsemble(JSON.parse(JSON.stringify(json)), arrays), q)).toEqual(v);
  });

  it('refuses too few references, missing blocks and mismatched sizes', () => {
    expect(() => fitEnsemble(refs.slice(0, 3), ids.slice(0, 3), config)).toThrow(/at least 5/);
    expect(() => fitEnsemble(refs, ids, { channels: [{ representation: 'zzz', detector: 'knn' }] })).toThrow(
      InputError,
    );
    const q = model(new Rng(17));
    delete (q as Partial<Blocks>).b;
    expect(() => scoreEnsemble(state, q)).toThrow(/no "b" block/);
    const q2 = model(new Rng(18));
    q2.a = new Float32Array(5);
    expect(() => scoreEnsemble(state, q2)).toThrow(/expects 16/);
  });

  it('default config: identity for self-check blocks, detectors for the others, k capped by the folds', () => {
    const cfg = defaultEnsembleConfig({ a: 16, 'self:trigger': 1 }, 15);
    expect(cfg.channels.map((c) => `${c.detector}@${c.representation}`)).toEqual([
      'knn@a',
      'lof@a',
      'ocsvm@a',
      'identity@self:trigger',
    ]);
    const lof = cfg.channels.find((c) => c.detector === 'lof');
    expect(lof?.params?.k).toBeLessThanOrEqual(12);
    const s = fitEnsemble(refs.slice(0, 15), ids.slice(0, 15), cfg);
    expect(Number.isFinite(scoreEnsemble(s, model(new Rng(19))).pValue)).toBe(true);
  });

  it('a separate channel is calibrated and reported but not combined; the saved form keeps it separate', () => {
    const withMap: EnsembleConfig = {
      channels: [...config.channels, { representation: 'c', detector: 'max_z', separate: true }],
    };
    const sep = fitEnsemble(refs, ids, withMap);
    const r = new Rng(31);
    for (const m of [model(r), model(r, { c: 2 })]) {
      const a = scoreEnsemble(state, m);
      const b = scoreEnsemble(sep, m);
      // the combined p-value is the one without the separate channel
      expect(b.pValue).toBe(a.pValue);
      expect(b.statistic).toBe(a.statistic);
      expect(Object.keys(b.separate)).toEqual(['max_z@c']);
      expect(b.separate['max_z@c']).toBe(b.channels['max_z@c'].pValue);
      expect(a.separate).toEqual({});
    }
    const back = deserializeEnsemble(
      ...(() => {
        const { json, arrays } = serializeEnsemble(sep);
        return [JSON.parse(JSON.stringify(json)), arrays] as const;
      })(),
    );
    expect(back.channels.map((c) => c.separate)).toEqual([false, false, false, false, true]);
    const m = model(new Rng(32), { c: 3 });
    expect(scoreEnsemble(back, m)).toEqual(scoreEnsemble(sep, m));
    expect(() =>
      fitEnsemble(refs, ids, { channels: [{ representation: 'a', detector: 'knn', separate: true }] }),
    ).toThrow(InputError);
  });
});
