// Checkpoints move both ways: an avid state dict (safetensors, PyTorch names) loads strictly into the
// PyTorch definition of the same model (python/reference_models.py) and gives the same embeddings, and a
// PyTorch state dict loads into avid and gives the same embeddings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../../src/tensor/index.js';
import { createModel } from '../../src/models/index.js';
import { saveSafetensors, loadSafetensors } from '../../src/io/safetensors.js';
import { runPython, pythonTorchSkipReason } from '../helpers/python.js';

const skip = pythonTorchSkipReason() ?? false;
const pythonDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../python');
const prelude = `import sys, torch\nsys.path.insert(0, ${JSON.stringify(pythonDir)})\nfrom reference_models import AVModel\ntorch.set_num_threads(1)\n`;

function assertClose(a: T.Tensor, b: T.Tensor, what: string): void {
  const err = T.tidy(() => a.sub(b).norm().item() / b.norm().item());
  assert.ok(err < 1e-4, `${what}: relative error ${err}`);
}

test('an avid state dict loads into the PyTorch model and gives the same embeddings', { skip, timeout: 120_000 }, () => {
  T.manualSeed(3);
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-interop-'));
  const model = createModel('av-r2plus1d-18', { width: 0.125 });
  model.eval();
  const inputs = { video: T.randn([2, 3, 4, 32, 32]), audio: T.randn([2, 1, 40, 33]) };
  const ours = T.noGrad(() => model.forward(inputs.video, inputs.audio));
  saveSafetensors(path.join(dir, 'model.safetensors'), model.stateDict());
  saveSafetensors(path.join(dir, 'inputs.safetensors'), inputs);
  runPython(`${prelude}
sd, _ = load_st(sys.argv[1] + '/model.safetensors')
x, _ = load_st(sys.argv[1] + '/inputs.safetensors')
m = AVModel(18, 0.125)
m.load_state_dict(sd, strict=True)
m.eval()
with torch.no_grad():
    v, a = m(x['video'], x['audio'])
save_st(sys.argv[1] + '/out.safetensors', {'video': v.contiguous(), 'audio': a.contiguous()})`, { args: [dir] });
  const theirs = loadSafetensors(path.join(dir, 'out.safetensors')).tensors;
  assertClose(ours.video, theirs.get('video')!, 'video embedding');
  assertClose(ours.audio, theirs.get('audio')!, 'audio embedding');
  model.dispose();
});

test('a PyTorch state dict loads into avid and gives the same embeddings', { skip, timeout: 120_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-interop-'));
  runPython(`${prelude}
torch.manual_seed(0)
m = AVModel(10, 0.25)
# Non-trivial batch-norm statistics, so that eval mode uses them.
m.train()
with torch.no_grad():
    for _ in range(2): m(torch.randn(2, 3, 4, 32, 32), torch.randn(2, 1, 40, 33))
m.eval()
video, audio = torch.randn(2, 3, 4, 32, 32), torch.randn(2, 1, 40, 33)
with torch.no_grad():
    v, a = m(video, audio)
save_st(sys.argv[1] + '/model.safetensors', {k: t.contiguous() for k, t in m.state_dict().items()})
save_st(sys.argv[1] + '/io.safetensors', {'video': video, 'audio': audio, 'v': v.contiguous(), 'a': a.contiguous()})`, { args: [dir] });
  const model = createModel('av-r2plus1d-10', { width: 0.25 });
  model.loadStateDict(loadSafetensors(path.join(dir, 'model.safetensors')).tensors);
  model.eval();
  const io = loadSafetensors(path.join(dir, 'io.safetensors')).tensors;
  const ours = T.noGrad(() => model.forward(io.get('video')!, io.get('audio')!));
  assertClose(ours.video, io.get('v')!, 'video embedding');
  assertClose(ours.audio, io.get('a')!, 'audio embedding');
  model.dispose();
});
