// Files: safetensors (tensors in and out, loadable by PyTorch), PyTorch checkpoints in (read without running
// anything) and atomic replacement of files.
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
export * as tensorboard from './tensorboard/index.js';
export { readPyTorchCheckpoint, decodePyTorchCheckpoint, isPyTorchCheckpointPath, type PyTorchCheckpoint, type CheckpointTree } from './pytorch-checkpoint.js';
export { importReferenceCheckpoint, referenceToAvid, type ReferenceImport } from './reference-checkpoint.js';
export { TorchTensor, type TorchStorage } from './torch-tensor.js';
export { readNpz, parseNpy, type NpyArray } from './npz.js';
