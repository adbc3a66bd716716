// Files: safetensors (tensors in and out, loadable by PyTorch) and atomic replacement of files.
export {
  saveSafetensors,
  loadSafetensors,
  openSafetensors,
  encodeSafetensors,
  decodeSafetensors,
  parseSafetensorsHeader,
  type SafetensorsDtype,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type LoadedSafetensors,
  type SafetensorsReader,
  type NamedTensors,
} from './safetensors.js';
export { writeFileAtomic } from './atomic.js';
