#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora into fuzz/seeds/<fuzzer>/: small real files of every format.
Needs torch, numpy, PIL and google.protobuf (/usr/bin/python3 on Debian with python3-torch,
python3-pil, python3-protobuf) and a built spherecl (argument 1) for the model-file seed. The seeds
are committed; run this only to remake them."""
import os, struct, subprocess, sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'tests'))
import parity_pytorch as pp  # the SphereFace model and the Caffe writer of the parity test

pp.WIDTHS, pp.EMBED = [2, 2, 2, 2], 4  # a tiny SphereFace-4: a few hundred floats


def seed_dir(name):
    d = os.path.join(here, 'seeds', name)
    os.makedirs(d, exist_ok=True)
    return d


def write(name, file, data):
    with open(os.path.join(seed_dir(name), file), 'wb') as f:
        f.write(data)


def main():
    spherecl = sys.argv[1]
    torch.manual_seed(0)
    model = pp.SphereNet(4, 3)
    pp.random_weights(model)
    sd = model.state_dict()
    pth = os.path.join(seed_dir('torch'), 'sphere4-legacy.pth')
    torch.save(sd, pth, _use_new_zipfile_serialization=False)
    torch.save(sd, os.path.join(seed_dir('torch'), 'sphere4-zip.pth'))
    C = pp.caffe_classes()
    layers = pp.caffe_layers(model, sd)
    pp.write_caffe(C, layers, os.path.join(seed_dir('caffe'), 'sphere4.caffemodel'), False)
    pp.write_caffe(C, layers, os.path.join(seed_dir('caffe'), 'sphere4-v1.caffemodel'), True)
    subprocess.run([spherecl, 'import', '--pytorch', pth, '--out',
                    os.path.join(seed_dir('modelfile'), 'sphere4.scl')], check=True)

    from PIL import Image
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    for fmt, mode, ext in [('PNG', 'RGB', 'png'), ('PNG', 'L', 'grey.png'), ('JPEG', 'RGB', 'jpg'),
                           ('JPEG', 'L', 'grey.jpg'), ('PPM', 'RGB', 'ppm'), ('PPM', 'L', 'pgm')]:
        path = os.path.join(seed_dir('image'), 'face.' + ext)
        Image.fromarray(rgb).convert(mode).save(path, fmt)
    write('image', 'ascii.pgm', b'P2\n2 2\n255\n0 64\n128 255\n')

    images = struct.pack('>IIII', 0x803, 3, 2, 2) + bytes(range(12))
    labels = struct.pack('>II', 0x801, 3) + bytes([0, 7, 9])
    write('idx', 'three-2x2', bytes([len(images) * 255 // (len(images) + len(labels))]) + images + labels)

    write('text', 'pairs.txt', b'\x01' + b'2\t2\nAnn\t1\t2\nBob\t1\t3\nAnn\t1\tBob\t2\nCid\t1\tAnn\t2\n'
          b'Cid\t1\t2\nDee\t2\t3\nCid\t2\tDee\t1\nBob\t3\tDee\t1\n')
    write('text', 'landmarks.txt', b'\x00' + b'Ann/Ann_0001.jpg 1 2 3 4 5 6 7 8 9 10\n'
          b'Bob/Bob_0001.jpg\t10.5\t20\t30\t40\t50\t60\t70\t80\t90\t100')

    write('tuning', 'tuned.tuning', b'# spherecl tuning 1\n[Portable Computing Language]\n'
          b'Xgemm 32 GEMMK=1 KREG=16 KWG=1 KWI=1 MDIMA=2 MDIMC=2 MWG=64 NDIMB=2 NDIMC=2 NWG=64 SA=0 SB=0 '
          b'STRM=0 STRN=0 VWM=16 VWN=16\nXgemmDirect 32 WGD=32 MDIMCD=8 NDIMCD=8 MDIMAD=8 NDIMBD=8 KWID=2 '
          b'VWMD=4 VWND=4 PADA=1 PADB=1\nGemmRoutine 32 XGEMM_MIN_INDIRECT_SIZE=128\nConv2d 32 WINOGRAD=4\n')
    for i, s in enumerate([b'42', b'-1.5e-3', b'0.1,0.2,0.3', b'48x56', b'1..30', b'asoftmax:m=4',
                           b'cosface:s=64,m=0.35', b'combined:s=64,m1=1,m2=0.3,m3=0.2', b'arcface:s=64,m=0.5']):
        write('cli', f'arg{i}', s)


if __name__ == '__main__':
    main()
