#!/usr/bin/env python3
"""The peer for `spherecl bench train`: SphereFace-20 training steps in PyTorch on the CPU.

Same network (SPEC §6: four stride-2 conv+PReLU stages of widths 64/128/256/512 with 1/2/4/1
residual units, fc5 to 512-d), same input (3x112x96), same classes (10572), the A-Softmax m=4 margin
with Caffe's λ blend, softmax loss, SGD with momentum 0.9 and weight decay 5e-4.

Run with Debian's build (apt-get install python3-torch):
    /usr/bin/python3 bench/pytorch_sphereface20.py --threads 2 --batch 16 --iters 10
It prints "pytorch: N images/s" (median over timed steps after warm-up).
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_prelu(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=(stride == 2)), nn.PReLU(cout, 0.25))


class Unit(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(conv_prelu(c, c, 1), conv_prelu(c, c, 1))

    def forward(self, x):
        return x + self.body(x)


class SphereFace20(nn.Module):
    def __init__(self, classes, in_hw=(112, 96), widths=(64, 128, 256, 512), units=(1, 2, 4, 1), dim=512):
        super().__init__()
        layers, cin, h, w = [], 3, in_hw[0], in_hw[1]
        for width, n in zip(widths, units):
            layers.append(conv_prelu(cin, width, 2))
            layers += [Unit(width) for _ in range(n)]
            cin, h, w = width, (h - 1) // 2 + 1, (w - 1) // 2 + 1
        self.features = nn.Sequential(*layers)
        self.fc5 = nn.Linear(cin * h * w, dim)
        self.classes = nn.Parameter(torch.empty(classes, dim).uniform_(-(3 / dim) ** 0.5, (3 / dim) ** 0.5))

    def forward(self, x, labels, lam):
        x = self.fc5(torch.flatten(self.features(x), 1))
        w = F.normalize(self.classes, dim=1)
        logits = x @ w.t()
        norm = x.norm(dim=1).clamp_min(1e-12)
        c = (logits.gather(1, labels[:, None])[:, 0] / norm).clamp(-1, 1)
        # psi for m = 4 without acos (SPEC §5)
        s0 = torch.sign(c)
        s3 = torch.sign(s0 * (2 * c * c - 1))
        s4 = 2 * s0 + s3 - 3
        psi = s3 * (8 * c ** 4 - 8 * c ** 2 + 1) + s4
        target = (lam * logits.gather(1, labels[:, None])[:, 0] + norm * psi) / (1 + lam)
        logits = logits.scatter(1, labels[:, None], target[:, None])
        return F.cross_entropy(logits, labels)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--classes", type=int, default=10572)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    net = SphereFace20(args.classes)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(args.batch, 3, 112, 96)
    y = torch.randint(0, args.classes, (args.batch,))
    times = []
    for it in range(args.warmup + args.iters):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = net(x, y, lam=max(5.0, 1000.0 / (1 + 0.12 * (it + 1))))
        loss.backward()
        opt.step()
        if it >= args.warmup:
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(f"pytorch {torch.__version__}: SphereFace-20 batch {args.batch}, {args.threads} threads: "
          f"{args.batch / med:.2f} images/s ({med * 1000:.0f} ms/step, loss {loss.item():.3f})")


if __name__ == "__main__":
    main()
