import { expect } from 'chai';
import { resample } from '../../../../inference-runtime/speech/resample.js';

const tone = (hz: number, rate: number, seconds: number): Float32Array =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / rate));

/** RMS of the middle half (the edges have fewer neighbours for the kernel). */
function rms(x: Float32Array): number {
  const mid = x.subarray(x.length / 4, (3 * x.length) / 4);
  return Math.sqrt(mid.reduce((s, v) => s + v * v, 0) / mid.length);
}

/** Amplitude of `hz` in `x` (one DFT bin over the middle half). */
function amplitudeAt(x: Float32Array, hz: number, rate: number): number {
  const mid = x.subarray(x.length / 4, (3 * x.length) / 4);
  let re = 0;
  let im = 0;
  mid.forEach((v, i) => {
    re += v * Math.cos((2 * Math.PI * hz * i) / rate);
    im += v * Math.sin((2 * Math.PI * hz * i) / rate);
  });
  return (2 * Math.hypot(re, im)) / mid.length;
}

describe('resampling to 16 kHz', () => {
  for (const rate of [8_000, 11_025, 22_050, 44_100, 48_000]) {
    it(`keeps a 1 kHz tone's frequency and level from ${rate} Hz`, () => {
      const out = resample(tone(1_000, rate, 0.5), rate, 16_000);
      expect(out.length).to.equal(Math.floor(0.5 * rate * (16_000 / rate)));
      expect(amplitudeAt(out, 1_000, 16_000)).to.be.closeTo(0.5, 0.01);
      expect(rms(out)).to.be.closeTo(0.5 / Math.SQRT2, 0.01);
    });
  }

  it('filters out what lies above the new Nyquist frequency instead of folding it back', () => {
    // 12 kHz at 48 kHz would alias to 4 kHz at 16 kHz without the filter.
    const out = resample(tone(12_000, 48_000, 0.5), 48_000, 16_000);
    expect(rms(out)).to.be.below(0.01);
    expect(amplitudeAt(out, 4_000, 16_000)).to.be.below(0.01);
  });

  it('returns 16 kHz input unchanged', () => {
    const x = tone(440, 16_000, 0.1);
    expect(resample(x, 16_000, 16_000)).to.equal(x);
  });
});
