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
export { encodeOnnxModel, ONNX_FLOAT, ONNX_INT64, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo, type OnnxAttribute } from './onnx-writer.js';
export { encoderOnnxModel, ONNX_OPSET, type EncoderGraphOptions } from './onnx-export.js';
