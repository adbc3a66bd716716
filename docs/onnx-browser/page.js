// The page's wiring: load export.json and audio.onnx from the model folder (?model=, default ./model/), decode a
// dropped or chosen sound file with Web Audio at the model's sample rate, embed its first clip (avid-audio.js)
// and show the result. onnxruntime-web is the npm package's wasm build (?ort= for another location).
import { monoSamples, embedAudio, audioInput } from './avid-audio.js';

const params = new URLSearchParams(location.search);
const modelDir = new URL(params.get('model') ?? './model/', location.href);
const ortModule = new URL(params.get('ort') ?? '../../node_modules/onnxruntime-web/dist/ort.wasm.min.mjs', location.href);
const $ = (id) => document.getElementById(id);
$('model').textContent = modelDir.href;

function setStatus(text, state) {
  $('status').textContent = text;
  $('status').className = state === 'error' ? 'error' : '';
  document.body.dataset.status = state;
}

function drawSpectrogram(spectrogram) {
  const canvas = $('spectrogram');
  canvas.width = spectrogram.frames;
  canvas.height = spectrogram.bins;
  const context = canvas.getContext('2d');
  const image = context.createImageData(spectrogram.frames, spectrogram.bins);
  let low = Infinity;
  let high = -Infinity;
  for (const v of spectrogram.data) [low, high] = [Math.min(low, v), Math.max(high, v)];
  for (let t = 0; t < spectrogram.frames; t++) {
    for (let f = 0; f < spectrogram.bins; f++) {
      const level = Math.round((255 * (spectrogram.data[t * spectrogram.bins + f] - low)) / (high - low || 1));
      const at = 4 * ((spectrogram.bins - 1 - f) * spectrogram.frames + t); // low frequencies at the bottom
      image.data.set([level, level, Math.min(255, 64 + level), 255], at);
    }
  }
  context.putImageData(image, 0, 0);
  canvas.hidden = false;
}

async function main() {
  let ort;
  let manifest;
  let session;
  try {
    ort = await import(ortModule.href);
    // One thread: threads need a cross-origin-isolated page, which a plain static server does not give.
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = new URL('./', ortModule).href;
    const response = await fetch(new URL('export.json', modelDir));
    if (!response.ok) throw new Error(`${new URL('export.json', modelDir).href}: HTTP ${response.status} (run avid export --onnx … --out <folder> and pass ?model=<folder>/)`);
    manifest = await response.json();
    if (manifest.format !== 'avid-onnx-export' || !manifest.audio) throw new Error('export.json is not an avid export with an audio model');
    session = await ort.InferenceSession.create(new URL(manifest.audio.file, modelDir).href, { executionProviders: ['wasm'] });
  } catch (error) {
    setStatus(`cannot load the model: ${error.message}`, 'error');
    return;
  }
  const audio = manifest.audio;
  setStatus(`ready: drop a sound file (its first ${audio.seconds} s at ${audio.sampleRate} Hz are embedded)`, 'ready');

  // The last file's decoded samples, embedded again when the clip start changes.
  let current = null;

  async function embedFile(file) {
    setStatus(`decoding ${file.name}…`, 'busy');
    current = null;
    try {
      let buffer;
      try {
        // Decoded and resampled to the model's rate by the browser (an exact copy for a file already at that rate).
        buffer = await new OfflineAudioContext(1, 1, audio.sampleRate).decodeAudioData(await file.arrayBuffer());
      } catch (error) {
        throw new Error(`${file.name}: the browser cannot decode it as audio (${error.message || error.name})`);
      }
      current = { file, samples: monoSamples(buffer) };
      await embedCurrent();
    } catch (error) {
      window.avidResult = { file: file.name, error: error.message };
      setStatus(error.message, 'error');
    }
  }

  async function embedCurrent() {
    const { file, samples } = current;
    const start = Number($('start').value);
    try {
      drawSpectrogram(audioInput(samples, audio, start));
      const result = await embedAudio(ort, session, samples, manifest, start);
      const norm = Math.hypot(...result.embedding);
      $('output').textContent = `${file.name} from ${start} s: ${result.embedding.length}-d embedding (norm ${norm.toFixed(4)})\n[${result.embedding.map((v) => v.toFixed(5)).join(', ')}]`;
      $('output').hidden = false;
      window.avidResult = { file: file.name, samples: samples.length, start, ...result };
      setStatus(`embedded ${file.name} from ${start} s`, 'done');
    } catch (error) {
      window.avidResult = { file: file.name, error: error.message };
      setStatus(error.message, 'error');
    }
  }

  $('start').addEventListener('change', () => current && embedCurrent());
  $('file').addEventListener('change', () => $('file').files[0] && embedFile($('file').files[0]));
  const drop = $('drop');
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    const file = event.dataTransfer.files[0];
    if (file) embedFile(file);
  });
}

main();
