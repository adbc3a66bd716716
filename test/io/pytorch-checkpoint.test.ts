// PyTorch checkpoints read without Python: files written here by python3-torch (Debian's, /usr/bin/python3)
// in both serialisations — the zip one (torch.save) and the legacy one the AVID-CMA authors' published files
// use (_use_new_zipfile_serialization=False), saved "from a GPU" — and hostile pickles that must be refused
// before anything runs.
//
// A GPU-saved legacy file without CUDA: python3-torch here has no CUDA, so the fixture is written by
// torch.save itself with a pickle module whose Pickler rewrites each storage's persistent id, as it is
// pickled, from (…, torch.FloatStorage, key, 'cpu', …) to (…, torch.cuda.FloatStorage, key, 'cuda:0', …) —
// exactly the ids a GPU run writes (the storage bytes do not depend on the device). PyTorch reads the result
// back with map_location='cpu', which the fixture script checks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../../src/tensor/index.js';
import { readPyTorchCheckpoint } from '../../src/io/pytorch-checkpoint.js';
import { referenceToAvid } from '../../src/io/reference-checkpoint.js';
import { unpickle } from '../../src/io/pickle.js';
import { TorchTensor } from '../../src/io/torch-tensor.js';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { loadCheckpoint, disposeContents } from '../../src/io/checkpoint.js';
import { readRunArtifact, readCheckpointContents, readMemoryBanks, avModelOf, NO_DATA_SOURCE } from '../../src/train/run-artifact.js';
import { CmaObjective } from '../../src/ssl/cma.js';
import { runPython, pythonTorchSkipReason } from '../helpers/python.js';

const skip = pythonTorchSkipReason() ?? false;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'avid-pth-'));
const markers = { osSystem: path.join(dir, 'os-system-ran'), legacySystem: path.join(dir, 'legacy-system-ran'), evalRan: path.join(dir, 'eval-ran') };

// One Python run writes every fixture (sys.argv: directory, python/ of this repository, marker paths).
const FIXTURES_PY = String.raw`
import sys, io, os, pickle, types, zipfile, collections, struct
import torch
out, pydir, marker_system, marker_legacy, marker_eval = sys.argv[1:6]
sys.path.insert(0, pydir)
from reference_models import AVModel
torch.manual_seed(0)

class CudaTaggingPickler(pickle.Pickler):
    """Names storages as a GPU-saved file does: torch.cuda.<X>Storage at location cuda:0."""
    def __setattr__(self, name, value):
        if name == 'persistent_id':
            inner = value
            def persistent_id(obj):
                pid = inner(obj)
                if pid is not None and pid[0] == 'storage':
                    pid = ('storage', getattr(torch.cuda, pid[1].__name__), pid[2], 'cuda:0') + tuple(pid[4:])
                return pid
            value = persistent_id
        super().__setattr__(name, value)
cuda_pickle = types.ModuleType('cuda_tagging_pickle')
cuda_pickle.__dict__.update(Pickler=CudaTaggingPickler, dump=pickle.dump, load=pickle.load, Unpickler=pickle.Unpickler)

# ---- the reference's layout: {epoch, model (DistributedDataParallel names), optimizer, train_criterion} ----
m = AVModel(18, 0.125)
m.train()
with torch.no_grad():
    for _ in range(2): m(torch.randn(2, 3, 4, 32, 32), torch.randn(2, 1, 40, 33))
m.eval()
opt = torch.optim.Adam(m.parameters(), lr=2e-4)
v, a = m(torch.randn(2, 3, 4, 32, 32), torch.randn(2, 1, 40, 33))
(v.sum() + a.sum()).backward()
opt.step()
n = 40
criterion = collections.OrderedDict([
    ('nce_average.view1_mem', torch.nn.functional.normalize(torch.randn(n, 128), dim=1)),
    ('nce_average.view2_mem', torch.nn.functional.normalize(torch.randn(n, 128), dim=1)),
    ('nce_average.positive_set', torch.randint(0, n, (n, 8)).int()),
    ('criterion.avg_exp_score', torch.tensor(3.25)),
])
ckpt = {'epoch': 7, 'model': collections.OrderedDict(('module.' + k, t) for k, t in m.state_dict().items()),
        'optimizer': opt.state_dict(), 'train_criterion': criterion}
torch.save(ckpt, out + '/ref-zip.pth.tar')
torch.save(ckpt, out + '/ref-legacy-cuda.pth.tar', pickle_module=cuda_pickle, _use_new_zipfile_serialization=False)
torch.save(m.state_dict(), out + '/bare.pth')
torch.save(m.state_dict(), out + '/bare-legacy.pt', _use_new_zipfile_serialization=False)
back = torch.load(out + '/ref-legacy-cuda.pth.tar', map_location='cpu')
assert torch.equal(back['train_criterion']['nce_average.view1_mem'], criterion['nce_average.view1_mem'])
video, audio = torch.randn(3, 3, 4, 32, 32), torch.randn(3, 1, 40, 33)
with torch.no_grad():
    ev, ea = m(video, audio)
save_st(out + '/io.safetensors', {'video': video, 'audio': audio, 'v': ev.contiguous(), 'a': ea.contiguous()})
save_st(out + '/criterion.safetensors', {k: t for k, t in criterion.items() if t.dim() > 0})

# ---- views, shared storages, dtypes ----
base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
views = {'base': base, 'transposed': base.t(), 'strided': base[1:, ::2], 'row': base[2], 'narrow': base[:, 3:5],
         'half': torch.randn(3, 5).half().t(), 'long': torch.arange(-5, 7).reshape(3, 4)[:, 1:],
         'double': torch.randn(2, 3, dtype=torch.float64).t(), 'scalar': torch.tensor(2.5),
         'int32': torch.tensor([1, -2, 3], dtype=torch.int32), 'uint8': torch.tensor([0, 7, 255], dtype=torch.uint8),
         'bool': torch.tensor([True, False, True]), 'bfloat16': torch.randn(4).bfloat16(), 'empty': torch.zeros(0, 3)}
torch.save(views, out + '/views-zip.pt')
torch.save(views, out + '/views-legacy.pt', _use_new_zipfile_serialization=False)
save_st(out + '/views-expected.safetensors', {k: t.contiguous() for k, t in views.items()})

# ---- hostile and malformed files, crafted with Python's own pickler ----
class FakeStorage:
    def __init__(self, key, numel): self.key, self.numel = key, numel
class StoragePickler(pickle.Pickler):
    def persistent_id(self, obj):
        return ('storage', torch.FloatStorage, obj.key, 'cpu', obj.numel) if isinstance(obj, FakeStorage) else None
class CraftedTensor:
    def __init__(self, storage, size, stride): self.args = (storage, 0, size, stride, False, collections.OrderedDict())
    def __reduce__(self): return (torch._utils._rebuild_tensor_v2, self.args)
class System:
    def __init__(self, command): self.command = command
    def __reduce__(self): return (os.system, (self.command,))
class Eval:
    def __init__(self, expression): self.expression = expression
    def __reduce__(self): return (eval, (self.expression,))

def pickled(obj, protocol=2):
    buf = io.BytesIO()
    StoragePickler(buf, protocol=protocol).dump(obj)
    return buf.getvalue()

def write_zip(name, data_pkl, storages={}):
    with zipfile.ZipFile(out + '/' + name, 'w', zipfile.ZIP_STORED) as z:
        z.writestr('archive/data.pkl', data_pkl)
        for key, raw in storages.items(): z.writestr('archive/data/' + key, raw)
        z.writestr('archive/version', '3\n')

def write_legacy(name, obj, storages):
    with open(out + '/' + name, 'wb') as f:
        pickle.dump(0x1950a86a20f9469cfc6c, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        pickle.dump({'protocol_version': 1001, 'little_endian': True, 'type_sizes': {'short': 2, 'int': 4, 'long': 4}}, f, protocol=2)
        f.write(pickled(obj))
        pickle.dump([k for k, _, _ in storages], f, protocol=2)
        for _, count, raw in storages:
            f.write(struct.pack('<q', count))
            f.write(raw)

four = struct.pack('<4f', 1, 2, 3, 4)
system_pkl = pickled({'model': collections.OrderedDict([('w', System('touch ' + marker_system))])})
write_zip('os-system.pth', system_pkl)
open(out + '/os-system.pkl', 'wb').write(system_pkl)
write_legacy('os-system-legacy.pth.tar', {'epoch': 1, 'model': System('touch ' + marker_legacy)}, [])
write_zip('eval-protocol4.pt', pickled({'w': Eval("open(" + repr(marker_eval) + ", 'w')")}, protocol=4))
write_zip('past-storage.pt', pickled({'w': CraftedTensor(FakeStorage('0', 4), (100,), (1,))}), {'0': four})
write_zip('expanded.pt', pickled({'w': CraftedTensor(FakeStorage('0', 4), (10 ** 9,), (0,))}), {'0': four})
write_zip('huge-storage.pt', pickled({'w': CraftedTensor(FakeStorage('0', 10 ** 12), (4,), (1,))}), {'0': four})
write_legacy('huge-storage-legacy.pt', {'w': CraftedTensor(FakeStorage('0', 10 ** 15), (4,), (1,))}, [('0', 10 ** 15, four)])
write_zip('deep.pt', b'\x80\x02' + b']' * 100000 + b'a' * 99999 + b'.')
print('fixtures written')
`;

before(() => {
  if (skip) return;
  runPython(FIXTURES_PY, { args: [dir, path.join(root, 'python'), markers.osSystem, markers.legacySystem, markers.evalRan], timeoutMs: 300_000 });
});

after(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string) => path.join(dir, name);

function assertSameTensor(actual: T.Tensor, expected: T.Tensor, name: string): void {
  assert.equal(actual.dtype, expected.dtype, `${name}: dtype`);
  assert.deepEqual(actual.shape, expected.shape, `${name}: shape`);
  // 16-bit floats are read back through float32, which holds each of their values exactly.
  const values = (t: T.Tensor) => T.tidy(() => Array.from((['float16', 'bfloat16'].includes(t.dtype) ? t.to('float32') : t).data() as ArrayLike<number | bigint>));
  assert.deepEqual(values(actual), values(expected), `${name}: values`);
}

/** ‖a − b‖ / ‖b‖ over the whole batch of (unit-normalised) embeddings. */
function relativeError(a: T.Tensor, b: T.Tensor): number {
  return T.tidy(() => a.sub(b).norm().item() / b.norm().item());
}

for (const format of ['zip', 'legacy'] as const) {
  test(`${format}: non-contiguous views, shared storages and every dtype read exactly as PyTorch holds them`, { skip }, () => {
    const checkpoint = readPyTorchCheckpoint(file(`views-${format}.pt`));
    assert.equal(checkpoint.format, `pytorch-${format}`);
    const expected = loadSafetensors(file('views-expected.safetensors')).tensors;
    assert.deepEqual([...checkpoint.tensors.keys()].sort(), [...expected.keys()].sort());
    for (const [name, want] of expected) {
      const got = checkpoint.tensors.get(name)!.toTensor();
      assertSameTensor(got, want, name);
      got.dispose();
      want.dispose();
    }
    // Views of `base` keep pointing at its one storage, with their own offsets and strides.
    const base = checkpoint.tensors.get('base')!;
    for (const name of ['transposed', 'strided', 'row', 'narrow']) assert.equal(checkpoint.tensors.get(name)!.storage, base.storage, `${name} shares base's storage`);
    assert.equal(base.storage.numel, 24);
    const strided = checkpoint.tensors.get('strided')!;
    assert.deepEqual([strided.storageOffset, strided.shape, strided.stride, strided.isContiguous], [6, [3, 3], [6, 2], false]);
  });
}

test('legacy GPU-saved file in the reference layout: CUDA-tagged storages, the model, banks, positives and Z', { skip }, () => {
  const bytes = readFileSync(file('ref-legacy-cuda.pth.tar'));
  assert.ok(bytes.includes(Buffer.from('torch.cuda\nFloatStorage\n')), 'the fixture names torch.cuda.FloatStorage');
  const checkpoint = readPyTorchCheckpoint(file('ref-legacy-cuda.pth.tar'));
  assert.equal(checkpoint.format, 'pytorch-legacy');
  const weight = checkpoint.tensors.get('model.module.video_model.conv1.0.weight')!;
  assert.equal(weight.storage.storageType, 'torch.cuda.FloatStorage');
  assert.equal(weight.storage.location, 'cuda:0');
  assert.deepEqual(weight.shape, [8, 3, 3, 7, 7]);
  assert.equal(checkpoint.tensors.get('train_criterion.nce_average.positive_set')!.dtype, 'int32');
  // The optimizer's state came through the unpickler too (tuples, floats, booleans, None, int keys).
  assert.ok([...checkpoint.tensors.keys()].some((k) => k.startsWith('optimizer.state.0.exp_avg')));
  const root = checkpoint.root as Map<string, unknown>;
  assert.equal(root.get('epoch'), 7);
});

for (const name of ['ref-legacy-cuda.pth.tar', 'ref-zip.pth.tar']) {
  test(`avid import ${name}: an avid checkpoint whose embeddings equal PyTorch's, with the memory banks`, { skip, timeout: 300_000 }, () => {
    const out = file(`${name}.safetensors`);
    const result = spawnSync(process.execPath, [path.join(root, 'bin/avid.mjs'), 'import', file(name), '--out', out], { encoding: 'utf8', timeout: 240_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /memory banks: \[40,128\]/);
    assert.match(result.stdout, /CMA positive sets: \[40,8\]/);

    const io = loadSafetensors(file('io.safetensors')).tensors;
    const artifact = readRunArtifact(out);
    const model = avModelOf(artifact, 'the test');
    assert.deepEqual(artifact.config.model, { name: 'av-r2plus1d-18', width: 0.125, embeddingDim: 128 });
    assert.equal(artifact.config.audio.frontend, 'reference');
    assert.equal(artifact.config.data.source, NO_DATA_SOURCE, 'an import records no training data');
    model.eval();
    const ours = T.noGrad(() => model.forward(io.get('video')!, io.get('audio')!));
    const videoError = relativeError(ours.video, io.get('v')!);
    const audioError = relativeError(ours.audio, io.get('a')!);
    assert.ok(videoError < 1e-4, `video embeddings: relative error ${videoError}`);
    assert.ok(audioError < 1e-4, `audio embeddings: relative error ${audioError}`);
    model.dispose();
    ours.video.dispose();
    ours.audio.dispose();
    io.forEach((t) => t.dispose());

    // The banks sit where avid's objectives keep them, and a CMA objective takes them as they are.
    const contents = loadCheckpoint(out);
    const criterion = loadSafetensors(file('criterion.safetensors')).tensors;
    const objective = contents.groups.objective!;
    assertSameTensor(objective.get('memory.video')!, criterion.get('nce_average.view1_mem')!, 'memory.video');
    assertSameTensor(objective.get('memory.audio')!, criterion.get('nce_average.view2_mem')!, 'memory.audio');
    const positives = T.tidy(() => criterion.get('nce_average.positive_set')!.to('int64'));
    assertSameTensor(objective.get('cma.positives')!, positives, 'cma.positives');
    const scalars = contents.scalars.objective as { logZ: Record<string, number> };
    assert.ok(Math.abs(scalars.logZ.v2a - Math.log(3.25)) < 1e-9);
    assert.equal(contents.scalars.objectiveName, 'cma');
    const cma = new CmaObjective({ numInstances: 40, dim: 128, positives: 8, wmpdNegatives: 16, lambda: 1, agreement: 'agreement', remineEveryEpochs: 5 });
    cma.loadState({ tensors: objective, scalars: contents.scalars.objective as Record<string, unknown> });
    assertSameTensor(cma.videoBank.bank, criterion.get('nce_average.view1_mem')!, 'CMA video bank');
    assertSameTensor(cma.positives!, positives, 'CMA positives');
    cma.dispose();
    positives.dispose();
    criterion.forEach((t) => t.dispose());
    disposeContents(contents);
  });
}

test('the one reader takes a .pth.tar where a checkpoint goes: pretraining\'s init, cma-diagnose\'s memory banks', { skip, timeout: 120_000 }, () => {
  const criterion = loadSafetensors(file('criterion.safetensors')).tensors;
  // What `pretrain --set init=…` reads: the model, the banks and Z, as from an imported file.
  const contents = readCheckpointContents(file('ref-zip.pth.tar'));
  assert.ok((contents.groups.model?.size ?? 0) > 0);
  assertSameTensor(contents.groups.objective!.get('memory.video')!, criterion.get('nce_average.view1_mem')!, 'init: memory.video');
  assert.ok(Math.abs((contents.scalars.objective as { logZ: Record<string, number> }).logZ.v2a - Math.log(3.25)) < 1e-9);
  disposeContents(contents);
  // What cma-diagnose and the demos read.
  const banks = readMemoryBanks(file('ref-zip.pth.tar'));
  assertSameTensor(banks.audio, criterion.get('nce_average.view2_mem')!, 'readMemoryBanks: audio');
  banks.video.dispose();
  banks.audio.dispose();
  criterion.forEach((t) => t.dispose());
  // A bare state dict has no banks: the error names the file.
  assert.throws(() => readMemoryBanks(file('bare.pth')), /bare\.pth: holds no memory banks/);
});

for (const name of ['bare.pth', 'bare-legacy.pt', 'ref-zip.pth.tar']) {
  test(`--checkpoint ${name} loads directly (the run-artifact reader) and embeds as PyTorch does`, { skip, timeout: 120_000 }, () => {
    const io = loadSafetensors(file('io.safetensors')).tensors;
    const artifact = readRunArtifact(file(name));
    assert.equal(artifact.kind, 'checkpoint');
    assert.equal(artifact.config.audio.frontend, 'reference');
    const model = avModelOf(artifact, 'the test');
    model.eval();
    const ours = T.noGrad(() => model.forward(io.get('video')!, io.get('audio')!));
    assert.ok(relativeError(ours.video, io.get('v')!) < 1e-4);
    assert.ok(relativeError(ours.audio, io.get('a')!) < 1e-4);
    model.dispose();
    ours.video.dispose();
    ours.audio.dispose();
    io.forEach((t) => t.dispose());
  });
}

test('banks under a sub-module prefix are found; several NCE constants average as the reference restores them; an unset Z stays unset', { skip }, () => {
  const checkpoint = readPyTorchCheckpoint(file('ref-zip.pth.tar'));
  const root = checkpoint.root as Map<string, unknown>;
  const criterion = root.get('train_criterion') as Map<string, unknown>;
  const z = criterion.get('criterion.avg_exp_score') as TorchTensor;
  const prefixed = new Map<string, unknown>([...criterion].map(([k, v]) => [`module.${k}`, v]));
  // A second Z of 4.75 (another NCE criterion): the reference restores their mean, 4.
  const otherZ = new TorchTensor({ ...z.storage, key: 'z2', bytes: new Uint8Array(new Float32Array([4.75]).buffer) }, 0, [], [], 'test');
  prefixed.set('module.criterion2.avg_exp_score', otherZ);
  root.set('train_criterion', prefixed);
  const { contents, summary } = referenceToAvid(checkpoint, 'prefixed.pth.tar');
  assert.deepEqual(summary.memoryBanks, [40, 128]);
  assert.equal(summary.z, 4);
  assert.equal((contents.scalars.objective as { logZ: { a2v: number } }).logZ.a2v, Math.log(4));
  assert.ok(contents.groups.objective!.has('cma.positives'));
  disposeContents(contents);

  // Z = −1 is the reference's "not computed yet": avid's normalisers then start unset (null).
  const unset = new TorchTensor({ ...z.storage, key: 'z3', bytes: new Uint8Array(new Float32Array([-1]).buffer) }, 0, [], [], 'test');
  root.set('train_criterion', new Map([...criterion].map(([k, v]) => [k, k === 'criterion.avg_exp_score' ? unset : v])));
  const fresh = referenceToAvid(checkpoint, 'unset.pth.tar');
  assert.equal((fresh.contents.scalars.objective as { logZ: { v2a: number | null } }).logZ.v2a, null);
  disposeContents(fresh.contents);

  // Only one of the two banks is an error that names what is missing.
  root.set('train_criterion', new Map([...criterion].filter(([k]) => k !== 'nce_average.view2_mem')));
  assert.throws(() => referenceToAvid(checkpoint, 'one-bank.pth.tar'), /one-bank\.pth\.tar: train_criterion has view1_mem but not view2_mem/);
});

test('hostile pickles are refused, naming the global, and nothing runs', { skip }, () => {
  assert.throws(() => readPyTorchCheckpoint(file('os-system.pth')), (e: Error) => e.message.includes(file('os-system.pth')) && /'(posix|os)\.system'.*not allowed/.test(e.message));
  assert.throws(() => readPyTorchCheckpoint(file('os-system-legacy.pth.tar')), /os-system-legacy\.pth\.tar.*'(posix|os)\.system'.*not allowed/);
  // Protocol 4 names its globals with STACK_GLOBAL.
  assert.throws(() => readPyTorchCheckpoint(file('eval-protocol4.pt')), /eval-protocol4\.pt.*'builtins\.eval'.*not allowed/);
  // `avid import` refuses it the same way.
  const result = spawnSync(process.execPath, [path.join(root, 'bin/avid.mjs'), 'import', file('os-system.pth'), '--out', file('never.safetensors')], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /system'.*not allowed/);
  assert.equal(existsSync(file('never.safetensors')), false);
  for (const marker of Object.values(markers)) assert.equal(existsSync(marker), false, `${marker} was created: the payload ran`);

  // The payloads are live: Python's own unpickler runs the same bytes and creates the marker.
  runPython(`import pickle, sys\npickle.loads(open(sys.argv[1], 'rb').read())`, { args: [file('os-system.pkl')] });
  assert.equal(existsSync(markers.osSystem), true, 'the os.system payload is a working one');
});

test('malformed files: unknown opcodes, truncation, views past their storage, hostile sizes', { skip }, () => {
  assert.throws(() => unpickle(Uint8Array.from([0x80, 0x02, 0xff, 0x2e]), 0, { source: 'bytes.pkl' }), /bytes\.pkl: unknown or unsupported pickle opcode 0xff/);
  assert.throws(() => unpickle(Uint8Array.from([0x80, 0x02, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x61]), 0, { source: 'long.pkl' }), /long\.pkl: truncated: BINUNICODE needs 2147483647 bytes/);

  const legacy = readFileSync(file('ref-legacy-cuda.pth.tar'));
  for (const cut of [200, Math.floor(legacy.length / 2), legacy.length - 1]) {
    const truncated = file(`truncated-${cut}.pth.tar`);
    writeFileSync(truncated, legacy.subarray(0, cut));
    assert.throws(() => readPyTorchCheckpoint(truncated), (e: Error) => e.message.startsWith(truncated) && /truncated/.test(e.message), `cut at ${cut}`);
  }
  const zip = readFileSync(file('ref-zip.pth.tar'));
  writeFileSync(file('truncated.pt'), zip.subarray(0, zip.length - 100));
  assert.throws(() => readPyTorchCheckpoint(file('truncated.pt')), /truncated\.pt: not a readable zip archive/);
  writeFileSync(file('garbage.pth'), 'not a checkpoint at all');
  assert.throws(() => readPyTorchCheckpoint(file('garbage.pth')), /garbage\.pth: not a PyTorch checkpoint/);

  assert.throws(() => readPyTorchCheckpoint(file('deep.pt')), /deep\.pt: containers nested more than 256 deep/);
  assert.throws(() => readPyTorchCheckpoint(file('past-storage.pt')), /past-storage\.pt: tensor 'w'.*reaches element 99 of storage '0', which has 4/);
  assert.throws(() => readPyTorchCheckpoint(file('expanded.pt')), /expanded\.pt: tensor 'w'.*more elements \(1000000000\) than its storage/);
  assert.throws(() => readPyTorchCheckpoint(file('huge-storage.pt')), /huge-storage\.pt: archive\/data\/0 holds 16 bytes but storage '0' needs 4000000000000/);
  assert.throws(() => readPyTorchCheckpoint(file('huge-storage-legacy.pt')), /huge-storage-legacy\.pt: truncated: storage '0' needs 4000000000000000 bytes but 16 are left/);
});

test('a TorchTensor gathers a non-contiguous view in index order', () => {
  // A (2, 3) view with strides (1, 2) at offset 1 of 8 float32 elements 0..7: [[1, 3, 5], [2, 4, 6]].
  const bytes = new Uint8Array(new Float32Array([0, 1, 2, 3, 4, 5, 6, 7]).buffer);
  const storage = { key: '0', dtype: 'float32' as const, storageType: 'torch.FloatStorage', location: 'cpu', numel: 8, bytes };
  const view = new TorchTensor(storage, 1, [2, 3], [1, 2], 'test');
  assert.equal(view.isContiguous, false);
  assert.deepEqual(Array.from(new Float32Array(view.contiguousBytes().slice().buffer)), [1, 3, 5, 2, 4, 6]);
  assert.throws(() => new TorchTensor(storage, 3, [2, 3], [1, 2], 'view'), /view: .*reaches element 8 of storage '0', which has 8/);
});
