// Renders the soundtrack of a scene: one note per event, starting on the event's sample, over a bed of
// coloured noise. Each note is normalised to a unit peak before its gain, so loudness means the same for
// every timbre.
import { deriveSeed, Rng } from './prng.js';
import type { SceneSpec, SoundSpec } from './scene.js';

const ATTACK_SEC = 0.003;
const NOTE_MAX_SEC = 0.3;
const RELEASE_SEC = 0.006;

/** Writes one note's waveform (before envelope) into `out`. */
function oscillate(sound: SoundSpec, pitchHz: number, sampleRate: number, rng: Rng, out: Float32Array): void {
  const n = out.length;
  const w = (2 * Math.PI * pitchHz) / sampleRate;
  switch (sound.timbre) {
    case 'sine':
      for (let i = 0; i < n; i++) out[i] = Math.sin(w * i);
      return;
    case 'square': {
      // Band-limited: odd harmonics below Nyquist, so the square does not alias into other bands.
      const harmonics: number[] = [];
      for (let h = 1; h <= 15 && h * pitchHz < sampleRate / 2.2; h += 2) harmonics.push(h);
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (const h of harmonics) v += Math.sin(w * h * i) / h;
        out[i] = v;
      }
      return;
    }
    case 'noise-burst': {
      // White noise through a resonant band-pass (RBJ biquad, Q = 3) centred on the pitch.
      const q = 3;
      const alpha = Math.sin(w) / (2 * q);
      const a0 = 1 + alpha;
      const b0 = alpha / a0;
      const a1 = (-2 * Math.cos(w)) / a0;
      const a2 = (1 - alpha) / a0;
      let x1 = 0, x2 = 0, y1 = 0, y2 = 0;
      for (let i = 0; i < n; i++) {
        const x = rng.range(-1, 1);
        const y = b0 * x - b0 * x2 - a1 * y1 - a2 * y2;
        x2 = x1;
        x1 = x;
        y2 = y1;
        y1 = y;
        out[i] = y;
      }
      return;
    }
    case 'chirp': {
      // Exponential sweep up one octave over 0.15 s, then held.
      let phase = 0;
      for (let i = 0; i < n; i++) {
        const f = pitchHz * Math.pow(2, Math.min(1, i / (0.15 * sampleRate)));
        phase += (2 * Math.PI * f) / sampleRate;
        out[i] = Math.sin(phase);
      }
      return;
    }
    case 'fm-bell': {
      // Two-operator FM with an inharmonic ratio and a decaying index: a struck-metal sound.
      const wm = w * 1.4;
      const indexDecay = 1 / (0.05 * sampleRate);
      for (let i = 0; i < n; i++) out[i] = Math.sin(w * i + 3 * Math.exp(-i * indexDecay) * Math.sin(wm * i));
      return;
    }
  }
}

/** The soundtrack of a scene: mono float samples in [-1, 1], as long as the video. */
export function renderSoundtrack(scene: SceneSpec): Float32Array {
  const { sampleRate, sound } = scene;
  const numSamples = Math.round(scene.durationSec * sampleRate);
  const audio = new Float32Array(numSamples);

  // Noise bed: white noise through a one-pole low-pass, scaled to the requested RMS.
  const noiseRng = new Rng(sound.noiseSeed);
  const c = sound.noiseColour;
  const rmsOfFiltered = Math.sqrt((1 - c) / (1 + c)) / Math.sqrt(3); // of y = c*y + (1-c)*U(-1,1)
  const noiseScale = sound.noiseLevel / rmsOfFiltered;
  let y = 0;
  for (let i = 0; i < numSamples; i++) {
    y = c * y + (1 - c) * noiseRng.range(-1, 1);
    audio[i] = noiseScale * y;
  }

  const noteRng = new Rng(deriveSeed(sound.noiseSeed, 'notes'));
  const maxNote = Math.round(NOTE_MAX_SEC * sampleRate);
  const buffer = new Float32Array(maxNote);
  const events = scene.sounding.events;
  for (let e = 0; e < events.length; e++) {
    const start = Math.round(events[e] * sampleRate);
    const length = Math.min(maxNote, numSamples - start);
    if (length <= 0) continue;
    const note = buffer.subarray(0, length);
    oscillate(sound, sound.pitchHz * sound.notePitch[e], sampleRate, noteRng, note);
    const attack = ATTACK_SEC * sampleRate;
    const release = RELEASE_SEC * sampleRate;
    const decay = 1 / (sound.decaySec * sampleRate);
    let peak = 0;
    for (let i = 0; i < length; i++) {
      const env = Math.min(1, i / attack, (maxNote - i) / release) * Math.exp(-Math.max(0, i - attack) * decay);
      note[i] *= env;
      peak = Math.max(peak, Math.abs(note[i]));
    }
    const g = peak > 0 ? (sound.gain * sound.noteGain[e]) / peak : 0;
    for (let i = 0; i < length; i++) audio[start + i] += g * note[i];
  }
  for (let i = 0; i < numSamples; i++) audio[i] = Math.max(-1, Math.min(1, audio[i]));
  return audio;
}
