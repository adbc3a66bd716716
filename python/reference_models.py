"""PyTorch definitions of the AVID/CMA encoders with the reference's parameter names.

Used by avid's tests (checkpoints move both ways) and benchmarks (the same training step in PyTorch).
Run with Debian's python3-torch: /usr/bin/python3.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class R2Plus1DBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.spt_conv1 = nn.Conv3d(cin, cout, (1, 3, 3), (1, stride, stride), (0, 1, 1), bias=False)
        self.spt_bn1 = nn.BatchNorm3d(cout)
        self.tmp_conv1 = nn.Conv3d(cout, cout, (3, 1, 1), (stride, 1, 1), (1, 0, 0), bias=False)
        self.tmp_bn1 = nn.BatchNorm3d(cout)
        self.spt_conv2 = nn.Conv3d(cout, cout, (1, 3, 3), 1, (0, 1, 1), bias=False)
        self.spt_bn2 = nn.BatchNorm3d(cout)
        self.tmp_conv2 = nn.Conv3d(cout, cout, (3, 1, 1), 1, (1, 0, 0), bias=False)
        self.out_bn = nn.BatchNorm3d(cout)
        self.res_conv = nn.Conv3d(cin, cout, 1, stride, bias=False) if (cin != cout or stride != 1) else None

    def forward(self, x):
        h = F.relu(self.spt_bn1(self.spt_conv1(x)))
        h = F.relu(self.tmp_bn1(self.tmp_conv1(h)))
        h = F.relu(self.spt_bn2(self.spt_conv2(h)))
        h = self.tmp_conv2(h)
        res = self.res_conv(x) if self.res_conv is not None else x
        return F.relu(self.out_bn(h + res))


class R2Plus1D(nn.Module):
    def __init__(self, layers, width=1.0):
        super().__init__()
        ch = [max(1, round(c * width)) for c in (64, 128, 256, 512)]
        self.conv1 = nn.Sequential(nn.Conv3d(3, ch[0], (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False), nn.BatchNorm3d(ch[0]),
                                   nn.ReLU(inplace=True), nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)))
        cin = ch[0]
        for i, n in enumerate(layers):
            blocks = []
            for b in range(n):
                blocks.append(R2Plus1DBlock(cin if b == 0 else ch[i], ch[i], (1 if i == 0 else 2) if b == 0 else 1))
            cin = ch[i]
            setattr(self, 'conv%dx' % (i + 2), blocks[0] if n == 1 else nn.Sequential(*blocks))
        self.out_channels = cin

    def forward(self, x):
        h = self.conv1(x)
        for i in range(4):
            h = getattr(self, 'conv%dx' % (i + 2))(h)
        return F.adaptive_max_pool3d(h, 1).flatten(1)


class AudioBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))


class AudioConv2d(nn.Module):
    def __init__(self, width=1.0):
        super().__init__()
        ch = [max(1, round(c * width)) for c in (64, 64, 128, 256, 512)]
        self.conv1 = nn.Sequential(nn.Conv2d(1, ch[0], 7, 2, 3, bias=False), nn.BatchNorm2d(ch[0]), nn.ReLU(inplace=True))
        for i, s in enumerate((2, 2, 2, 1)):
            setattr(self, 'block%d' % (i + 1), AudioBlock(ch[i], ch[i + 1], s))
        self.out_channels = ch[4]

    def forward(self, x):
        h = self.conv1(x)
        for i in range(4):
            h = getattr(self, 'block%d' % (i + 1))(h)
        return F.adaptive_max_pool2d(h, 1).flatten(1)


class Head(nn.Module):
    def __init__(self, d, out=128):
        super().__init__()
        self.projection = nn.Sequential(nn.Linear(d, d), nn.ReLU(inplace=True), nn.Linear(d, d), nn.ReLU(inplace=True), nn.Linear(d, out))

    def forward(self, x):
        return self.projection(x)


class AVModel(nn.Module):
    def __init__(self, depth=10, width=1.0, embedding_dim=128):
        super().__init__()
        layers = {10: [1, 1, 1, 1], 18: [2, 2, 2, 2], 34: [3, 4, 6, 3]}[depth]
        self.video_model = R2Plus1D(layers, width)
        self.audio_model = AudioConv2d(width)
        self.video_proj = Head(self.video_model.out_channels, embedding_dim)
        self.audio_proj = Head(self.audio_model.out_channels, embedding_dim)

    def forward(self, video, audio):
        v = F.normalize(self.video_proj(self.video_model(video)), dim=1)
        a = F.normalize(self.audio_proj(self.audio_model(audio)), dim=1)
        return v, a
