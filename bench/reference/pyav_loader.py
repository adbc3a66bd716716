#!/usr/bin/python3
"""The reference's data path, for bench/loader.ts: how AVID-CMA loads a training clip.

Written after facebookresearch/AVID-CMA:
  - utils/ioutils/av_wrappers.py  (av_open, av_load_video, av_laod_audio: open, seek, decode forward,
    frame.to_image(), s16 mono resampling, trim/pad),
  - datasets/video_db.py           (VideoDataset.__getitem__ in 'clip' mode, _sample_snippet, _get_clip:
    one container for both streams, a random audio window, the video clip inside it),
  - datasets/preprocessing.py      (VideoPrep_MSC_CJ: multi-scale random resized crop, horizontal flip,
    colour jitter, ClipToTensor, ImageNet normalisation; AudioPrepLibrosa: trim/pad, volume jitter),
  - utils/videotransforms/video_transforms.py and volume_transforms.py (the clip transforms on PIL images),
and a log spectrogram with torch.stft in avid's analysis geometry (20 ms Hann window zero-padded to 512,
20 ms hop, bins pooled in pairs to 129, 100 frames for 2 s), as the reference's SpectrogramLibrosa2 pools.

One process, no DataLoader workers, torch at one thread (as in a PyTorch DataLoader worker). Measures, per
set of files given, the clips delivered (batched as the default collate does), the wall time, the CPU time of
this process (resource.getrusage: user + system, all its threads) and its peak resident memory. Prints one
JSON line per set.

usage: /usr/bin/python3 bench/reference/pyav_loader.py --sets sets.json --clips 32 [--batch 8] [--seed 0]
  sets.json: {"raw": ["/path/a.mp4", ...], "prepared": [...]}
"""
import argparse
import json
import math
import random
import resource
import time
from fractions import Fraction

import av
import numpy as np
import torch
from PIL import Image
from torchvision.transforms import functional as vF

av.logging.set_level(0)
torch.set_num_threads(1)


# ---- utils/ioutils/av_wrappers.py ------------------------------------------------------------------------

def av_open(inpt):
    return av.open(inpt)


def av_load_video(container, video_fps=None, start_time=0, duration=None):
    video_stream = container.streams.video[0]
    _ss = video_stream.start_time * video_stream.time_base
    _dur = video_stream.duration * video_stream.time_base
    _ff = _ss + _dur
    _fps = video_stream.average_rate

    if video_fps is None:
        video_fps = _fps
    if duration is None:
        duration = _ff - start_time

    # Which frames to decode
    outp_times = [t for t in np.arange(start_time, min(start_time + duration - 0.5 / _fps, _ff), 1. / video_fps)][:int(duration * video_fps)]
    outp_vframes = [int((t - _ss) * _fps) for t in outp_times]
    start_time = outp_vframes[0] / float(_fps)

    # Fast forward to the keyframe before the clip, then decode forward
    container.seek(int(start_time * av.time_base))
    frames = []
    for frame in container.decode(video=0):
        if len(frames) == len(outp_vframes):
            break
        frame_no = frame.pts * frame.time_base * _fps
        if frame_no < outp_vframes[len(frames)]:
            continue
        pil_img = frame.to_image()
        while frame_no >= outp_vframes[len(frames)]:
            frames += [pil_img]
            if len(frames) == len(outp_vframes):
                break
    return frames, video_fps, start_time


def av_laod_audio(container, audio_fps=None, start_time=0, duration=None):
    audio_stream = container.streams.audio[0]
    _ss = audio_stream.start_time * audio_stream.time_base if audio_stream.start_time is not None else 0.
    _dur = audio_stream.duration * audio_stream.time_base
    _ff = _ss + _dur
    _fps = audio_stream.rate

    if audio_fps is None:
        resample = False
        audio_fps = _fps
    else:
        resample = True
        audio_resampler = av.audio.resampler.AudioResampler(format="s16p", layout="mono", rate=audio_fps)

    if duration is None:
        duration = _ff - start_time
    duration = min(duration, _ff - start_time)
    end_time = start_time + duration

    container.seek(int(start_time * av.time_base))
    data, timestamps = [], []
    for frame in container.decode(audio=0):
        frame_pts = frame.pts * frame.time_base
        frame_end_pts = frame_pts + Fraction(frame.samples, frame.rate)
        if frame_end_pts < start_time:
            continue
        if frame_pts > end_time:
            break
        try:
            frame.pts = None
            if resample:
                # PyAV >= 9 returns a list of frames from resample() (the reference ran PyAV 6-8: one frame).
                out = audio_resampler.resample(frame)
                out = out if isinstance(out, list) else [out]
                np_snd = np.concatenate([o.to_ndarray() for o in out], 1) if out else np.zeros((1, 0), np.int16)
            else:
                np_snd = frame.to_ndarray()
            data += [np_snd]
            timestamps += [frame_pts]
        except AttributeError:
            break
    data = np.concatenate(data, 1)

    start_decoded_time = timestamps[0]
    ss = int((start_time - start_decoded_time) * audio_fps)
    t = int(duration * audio_fps)
    if ss < 0:
        data = np.pad(data, ((0, 0), (-ss, 0)), 'constant', constant_values=0)
        ss = 0
    if t > data.shape[1]:
        data = np.pad(data, ((0, 0), (0, t - data.shape[1])), 'constant', constant_values=0)
    data = data[:, ss: ss + t]
    data = data / np.iinfo(data.dtype).max
    return data, audio_fps


# ---- datasets/preprocessing.py: VideoPrep_MSC_CJ (augment=True) ------------------------------------------

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1, 1)


def random_resized_crop_params(img, scale, ratio):
    # video_transforms.RandomResizedCrop.get_params
    area = img.size[0] * img.size[1]
    for _ in range(10):
        target_area = random.uniform(*scale) * area
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        aspect_ratio = math.exp(random.uniform(*log_ratio))
        w = int(round(math.sqrt(target_area * aspect_ratio)))
        h = int(round(math.sqrt(target_area / aspect_ratio)))
        if w <= img.size[0] and h <= img.size[1]:
            i = random.randint(0, img.size[1] - h)
            j = random.randint(0, img.size[0] - w)
            return i, j, h, w
    in_ratio = img.size[0] / img.size[1]
    if in_ratio < min(ratio):
        w = img.size[0]
        h = int(round(w / min(ratio)))
    elif in_ratio > max(ratio):
        h = img.size[1]
        w = int(round(h * max(ratio)))
    else:
        w, h = img.size
    return (img.size[1] - h) // 2, (img.size[0] - w) // 2, h, w


def color_jitter(clip, brightness=0.4, contrast=0.4, saturation=0.4, hue=0.2):
    # video_transforms.ColorJitter: one set of factors per clip, in a random order
    b = random.uniform(max(0, 1 - brightness), 1 + brightness)
    c = random.uniform(max(0, 1 - contrast), 1 + contrast)
    s = random.uniform(max(0, 1 - saturation), 1 + saturation)
    h = random.uniform(-hue, hue)
    fns = [lambda img: vF.adjust_brightness(img, b), lambda img: vF.adjust_saturation(img, s),
           lambda img: vF.adjust_hue(img, h), lambda img: vF.adjust_contrast(img, c)]
    random.shuffle(fns)
    out = []
    for img in clip:
        for fn in fns:
            img = fn(img)
        out.append(img)
    return out


def clip_to_tensor(clip):
    # volume_transforms.ClipToTensor: (C, T, H, W) in [0, 1]
    w, h = clip[0].size
    np_clip = np.zeros([3, len(clip), int(h), int(w)])
    for k, img in enumerate(clip):
        np_clip[:, k, :, :] = np.array(img, copy=False).transpose(2, 0, 1)
    return torch.from_numpy(np_clip).float().div(255)


def video_prep_msc_cj(frames, crop=(112, 112), min_area=0.08, num_frames=8):
    i, j, h, w = random_resized_crop_params(frames[0], (min_area, 1.), (3. / 4., 4. / 3.))
    frames = [vF.resized_crop(img, i, j, h, w, crop, vF.InterpolationMode.BILINEAR) for img in frames]
    if random.random() < 0.5:
        frames = [img.transpose(Image.FLIP_LEFT_RIGHT) for img in frames]
    frames = color_jitter(frames)
    tensor = (clip_to_tensor(frames) - MEAN) / STD
    while tensor.shape[1] < num_frames:  # pad_missing
        tensor = torch.cat((tensor, tensor[:, :num_frames - tensor.shape[1]]), 1)
    return tensor


# ---- audio: AudioPrepLibrosa (trim/pad, volume jitter) + a log spectrogram ----------------------------------

def audio_prep(sig, sr, duration, volume=0.1):
    num_frames = int(duration * sr)
    sig = sig.mean(0).astype(np.float32)
    if sig.shape[0] > num_frames:
        sig = sig[:num_frames]
    elif sig.shape[0] < num_frames:
        sig = np.pad(sig, (0, num_frames - sig.shape[0]), mode='constant')
    sig *= random.uniform(1. - volume, 1. + volume)
    return sig[np.newaxis]


WINDOW = torch.hann_window(480)


def log_spectrogram(sig, frames=100, n_fft=512, hop=480):
    x = torch.from_numpy(sig)
    spec = torch.stft(x, n_fft=n_fft, hop_length=hop, win_length=480, window=WINDOW, center=True, return_complex=True)
    power = spec.abs() ** 2  # (1, 257, T)
    power = torch.cat([power[:, :1], power[:, 1:].reshape(1, n_fft // 4, 2, -1).mean(2)], 1)  # 129 bins
    power = power[:, :, :frames]
    return torch.log(power + 1e-7).transpose(1, 2).unsqueeze(0)  # (1, 1, frames, 129)


# ---- datasets/video_db.py: one clip -----------------------------------------------------------------------

def time_limits(container):
    vs = container.streams.video[0]
    a = container.streams.audio[0]
    video_st = vs.start_time * vs.time_base
    video_ft = video_st + vs.duration * vs.time_base
    audio_st = a.start_time * a.time_base
    audio_ft = audio_st + a.duration * a.time_base
    return video_st, video_ft, audio_st, audio_ft


def sample_snippet(container, video_clip_duration, audio_clip_duration):
    video_st, video_ft, audio_st, audio_ft = time_limits(container)
    min_ss = max(audio_st, video_st)
    max_ss = min(audio_ft - audio_clip_duration, video_ft - video_clip_duration)
    assert max_ss > min_ss
    # audio_clip_duration > video_clip_duration, max_offsync_augm = 0
    sample_ss_a = random.uniform(min_ss, max_ss)
    sample_tt_a = sample_ss_a + audio_clip_duration
    win_min = max(sample_ss_a, video_st)
    win_max = min(sample_tt_a - video_clip_duration, video_ft)
    sample_ss_v = random.uniform(win_min, win_max)
    return sample_ss_v, video_clip_duration, sample_ss_a, audio_clip_duration


def get_clip(path, frames, fps, size, audio_seconds, rate):
    container = av_open(path)
    try:
        v_ss, v_dur, a_ss, a_dur = sample_snippet(container, frames / fps, audio_seconds)
        imgs, _, start_time = av_load_video(container, video_fps=fps, start_time=v_ss, duration=v_dur)
        video = video_prep_msc_cj(imgs, crop=(size, size), num_frames=frames)
        a_ss = a_ss - (v_ss - start_time)
        samples, sr = av_laod_audio(container, audio_fps=rate, start_time=a_ss, duration=a_dur)
        audio = log_spectrogram(audio_prep(samples, sr, a_dur))
        return video, audio
    finally:
        container.close()


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def measure(name, files, clips, batch, frames, fps, size, audio_seconds, rate):
    failures = 0
    delivered = 0
    shapes = None
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    index = 0
    while delivered < clips:
        videos, audios = [], []
        while len(videos) < batch and delivered + len(videos) < clips:
            path = files[index % len(files)]
            index += 1
            try:
                v, a = get_clip(path, frames, fps, size, audio_seconds, rate)
            except Exception:  # as the reference: skip to the next sample
                failures += 1
                if failures > 10 * clips:
                    raise
                continue
            videos.append(v)
            audios.append(a)
        video, audio = torch.stack(videos), torch.cat(audios)  # the default collate
        shapes = [list(video.shape), list(audio.shape)]
        delivered += video.shape[0]
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    return {
        'set': name, 'files': len(files), 'clips': delivered, 'wallSeconds': wall, 'cpuSeconds': cpu,
        'clipsPerSec': delivered / wall, 'clipsPerCpuSecond': delivered / cpu,
        'maxRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'failures': failures,
        'batchShapes': shapes,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--sets', required=True)
    p.add_argument('--clips', type=int, default=32)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--frames', type=int, default=8)
    p.add_argument('--fps', type=float, default=16)
    p.add_argument('--size', type=int, default=112)
    p.add_argument('--audio-seconds', type=float, default=2.)
    p.add_argument('--rate', type=int, default=24000)
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args()
    random.seed(args.seed)
    with open(args.sets) as f:
        sets = json.load(f)
    # A warm-up clip per set, so that lazy imports and first-call costs are not measured.
    for files in sets.values():
        get_clip(files[0], args.frames, args.fps, args.size, args.audio_seconds, args.rate)
    for name, files in sets.items():
        print(json.dumps(measure(name, files, args.clips, args.batch, args.frames, args.fps, args.size, args.audio_seconds, args.rate)), flush=True)


if __name__ == '__main__':
    main()
