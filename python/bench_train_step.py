"""The PyTorch side of bench/train-step: the same model, batch and loss as avid's, timed the same way."""
import json, sys, time
import torch
import torch.nn.functional as F
sys.path.insert(0, __file__.rsplit('/', 1)[0])
from reference_models import AVModel

cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg['threads'])
torch.manual_seed(0)
model = AVModel(cfg['depth'], cfg['width'])
opt = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-5)
B = cfg['batch']
video = torch.randn(B, 3, cfg['frames'], cfg['size'], cfg['size'])
audio = torch.randn(B, 1, cfg['audio_frames'], cfg['audio_bins'])
tau = 0.07

def step():
    opt.zero_grad(set_to_none=True)
    v, a = model(video, audio)
    logits = v @ a.t() / tau
    target = torch.arange(B)
    loss = F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)
    loss.backward()
    opt.step()

for _ in range(cfg['warmup']):
    step()
times = []
for _ in range(cfg['steps']):
    t0 = time.perf_counter()
    step()
    times.append(time.perf_counter() - t0)
times.sort()
print(json.dumps({'median_step_s': times[len(times) // 2]}))
