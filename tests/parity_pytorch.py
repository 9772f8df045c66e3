#!/usr/bin/env python3
"""Network-level parity of `spherecl import` / `export` with real PyTorch.

Builds the PyTorch SphereFace port's sphere20a (clcarwin/sphereface_pytorch, net_sphere.py) with random
weights, saves it as a legacy (pre-zip) .pth and, when google.protobuf is available, as a Caffe
.caffemodel in both the current (LayerParameter) and the old V1 format, written without Caffe. Then
imports each with `spherecl import`, embeds a few 96x112 images with `spherecl embed`, compares the
embeddings with PyTorch's (float64 as the truth), exports the models back to .pth and checks those.

usage: parity_pytorch.py SPHERECL --work DIR [--images DIR|FILE...] [--depth 20] [--classes 10]
Ends with `parity: OK (max rel err X)` (exit 0) or `parity: FAIL ...` (exit 1).
"""
import argparse, copy, glob, inspect, os, re, shlex, subprocess, sys
import numpy as np
import torch
import torch.nn as nn

UNITS = {4: [0, 0, 0, 0], 10: [0, 1, 2, 0], 20: [1, 2, 4, 1], 36: [2, 4, 8, 2], 64: [3, 8, 16, 3]}
WIDTHS = [64, 128, 256, 512]
H, W, EMBED = 112, 96, 512
TOL = 1e-4


# ---- the network ---------------------------------------------------------------------------------
class AngleLinear(nn.Module):  # only its weight, [in, out] as in the port; unused by the embedding
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))


class SphereNet(nn.Module):
    """sphere{depth}a: per stage conv{s}_1 (stride 2) + relu{s}_1, then units conv{s}_{2u}, conv{s}_{2u+1}."""
    def __init__(self, depth, classes):
        super().__init__()
        self.plan, cin = [], 3
        for s, (w, units) in enumerate(zip(WIDTHS, UNITS[depth]), 1):
            self._layer(f'{s}_1', cin, w, 2)
            self.plan.append([f'{s}_1'])
            for u in range(1, units + 1):
                self._layer(f'{s}_{2 * u}', w, w, 1)
                self._layer(f'{s}_{2 * u + 1}', w, w, 1)
                self.plan.append([f'{s}_{2 * u}', f'{s}_{2 * u + 1}'])
            cin = w
        self.fc5 = nn.Linear(WIDTHS[3] * 7 * 6, EMBED)
        self.fc6 = AngleLinear(EMBED, classes)

    def _layer(self, k, cin, cout, stride):
        setattr(self, 'conv' + k, nn.Conv2d(cin, cout, 3, stride, 1))
        setattr(self, 'relu' + k, nn.PReLU(cout))

    def _cr(self, k, x):
        return getattr(self, 'relu' + k)(getattr(self, 'conv' + k)(x))

    def forward(self, x):
        for step in self.plan:
            x = self._cr(step[0], x) if len(step) == 1 else x + self._cr(step[1], self._cr(step[0], x))
        return self.fc5(x.flatten(1))


def random_weights(model):
    """He-like convs (smaller inside residual units), nonzero biases, PReLU slopes in [0.1, 0.4]."""
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            layer, kind = name.split('.')
            if layer.startswith('conv') and kind == 'weight':
                k = int(layer.split('_')[1])
                gain = 1.0 if k == 1 else (0.5 if k % 2 == 0 else 0.25)
                p.normal_(0, gain * (2.0 / p[0].numel()) ** 0.5)
            elif kind == 'bias':
                p.uniform_(-0.1, 0.1)
            elif layer.startswith('relu'):
                p.uniform_(0.1, 0.4)
            elif layer == 'fc5':
                b = (6.0 / (p.shape[0] + p.shape[1])) ** 0.5
                p.uniform_(-b, b)
            else:  # fc6
                p.normal_(0, 1)


def embed(model, x):
    with torch.no_grad():
        e = model(x)
    return e / e.norm(dim=1, keepdim=True)


# ---- Caffe files, written with a dynamic subset of caffe.proto -----------------------------------
CAFFE_PROTO = {  # the fields of caffe.proto that a .caffemodel's weights need, real numbers
    'BlobShape': ['repeated int64 dim = 1 packed'],
    'BlobProto': ['optional int32 num = 1', 'optional int32 channels = 2', 'optional int32 height = 3',
                  'optional int32 width = 4', 'repeated float data = 5 packed',
                  'optional BlobShape shape = 7'],
    'ConvolutionParameter': ['optional uint32 num_output = 1', 'repeated uint32 kernel_size = 4'],
    'LayerParameter': ['optional string name = 1', 'optional string type = 2', 'repeated string bottom = 3',
                       'repeated string top = 4', 'repeated BlobProto blobs = 7',
                       'optional ConvolutionParameter convolution_param = 106'],
    # V1's `type` is caffe.proto's enum LayerType: the same varint on the wire as this int32
    'V1LayerParameter': ['repeated string bottom = 2', 'repeated string top = 3', 'optional string name = 4',
                         'optional int32 type = 5', 'repeated BlobProto blobs = 6'],
    'NetParameter': ['optional string name = 1', 'repeated V1LayerParameter layers = 2',
                     'repeated LayerParameter layer = 100'],
}


def caffe_classes():
    """Message classes for CAFFE_PROTO, made at run time (no protoc, no Caffe)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name='spherecl_caffe.proto', package='caffe', syntax='proto2')
    for mname, fields in CAFFE_PROTO.items():
        m = fdp.message_type.add(name=mname)
        for spec in fields:
            label, ftype, fname, _, num, *packed = spec.split()
            f = m.field.add(name=fname, number=int(num),
                            label=F.LABEL_REPEATED if label == 'repeated' else F.LABEL_OPTIONAL)
            if ftype in CAFFE_PROTO:
                f.type, f.type_name = F.TYPE_MESSAGE, '.caffe.' + ftype
            else:
                f.type = getattr(F, 'TYPE_' + ftype.upper())
            if packed:
                f.options.packed = True
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(fdp.SerializeToString())
    get = (getattr(message_factory, 'GetMessageClass', None)  # protobuf >= 4.22; older: GetPrototype
           or message_factory.MessageFactory(pool).GetPrototype)
    return {n: get(pool.FindMessageTypeByName('caffe.' + n)) for n in CAFFE_PROTO}


V1_TYPE = {'Data': 5, 'Convolution': 4, 'InnerProduct': 14, 'Eltwise': 25}  # caffe.proto V1LayerType


def caffe_layers(model, sd):
    """(name, type, bottom, top, [arrays]) in a real sphereface prototxt's order, with blob-less layers."""
    out = [('data', 'Data', [], ['data', 'label'], [])]
    top = 'data'
    for step in model.plan:
        for k in step:
            prev = top if k == step[0] else 'conv' + step[0]
            w = sd[f'conv{k}.weight'].numpy()
            out.append(('conv' + k, 'Convolution', [prev], ['conv' + k], [w, sd[f'conv{k}.bias'].numpy()]))
            out.append(('relu' + k, 'PReLU', ['conv' + k], ['conv' + k], [sd[f'relu{k}.weight'].numpy()]))
        if len(step) == 2:
            out.append(('res' + step[1], 'Eltwise', [top, 'conv' + step[1]], ['res' + step[1]], []))
            top = 'res' + step[1]
        else:
            top = 'conv' + step[0]
    out.append(('fc5', 'InnerProduct', [top], ['fc5'], [sd['fc5.weight'].numpy(), sd['fc5.bias'].numpy()]))
    out.append(('fc6', 'MarginInnerProduct', ['fc5', 'label'], ['fc6'], [sd['fc6.weight'].numpy().T]))
    out.append(('softmax_loss', 'SoftmaxWithLoss', ['fc6', 'label'], ['softmax_loss'], []))
    return out


def blob_dims(a, v1):
    """A blob's shape: as is, or V1's legacy num, channels, height, width (1s in front: 1x1x1xC)."""
    return [1] * (4 - a.ndim) + list(a.shape) if v1 else list(a.shape)


def write_caffe(C, layers, path, v1):
    net = C['NetParameter'](name='SpherefaceNet')
    for name, ltype, bottom, top, arrays in layers:
        L = (net.layers if v1 else net.layer).add(name=name, bottom=bottom, top=top)
        if v1 and ltype in V1_TYPE:
            L.type = V1_TYPE[ltype]
        elif not v1:
            L.type = ltype
        if ltype == 'Convolution' and not v1:
            L.convolution_param.num_output = arrays[0].shape[0]
            L.convolution_param.kernel_size.append(3)
        for a in arrays:
            b = L.blobs.add()
            b.data.extend(np.ascontiguousarray(a, dtype=np.float32).ravel().tolist())
            if v1:
                b.num, b.channels, b.height, b.width = blob_dims(a, v1)
            else:
                b.shape.dim.extend(a.shape)
    with open(path, 'wb') as f:
        f.write(net.SerializeToString())


def check_caffe(C, layers, path, v1):
    """Parses the file back and compares every blob's shape and data with what was written."""
    net = C['NetParameter']()
    with open(path, 'rb') as f:
        net.ParseFromString(f.read())
    got = net.layers if v1 else net.layer
    assert [L.name for L in got] == [l[0] for l in layers], path
    for L, layer in zip(got, layers):
        assert len(L.blobs) == len(layer[4]), L.name
        for b, a in zip(L.blobs, layer[4]):
            dims = [b.num, b.channels, b.height, b.width] if v1 else list(b.shape.dim)
            assert dims == blob_dims(a, v1), L.name
            assert np.array_equal(np.array(b.data, np.float32), a.ravel()), L.name


# ---- images --------------------------------------------------------------------------------------
def smooth_images(n, rng):
    """n RGB HxWx3 uint8 images: 8x7 noise, bilinearly upsampled, plus a little fine noise."""
    up = lambda n_out, n_in: np.stack([np.interp(np.linspace(0, n_in - 1, n_out), np.arange(n_in), row)
                                       for row in np.eye(n_in)], 1)  # [n_out, n_in] interpolation
    imgs = [np.einsum('yi,ijc,xj->yxc', up(H, 8), rng.uniform(0, 255, (8, 7, 3)), up(W, 7)) for _ in range(n)]
    return [np.clip(i + rng.normal(0, 6, i.shape), 0, 255).astype(np.uint8) for i in imgs]


def write_ppm(path, img):
    with open(path, 'wb') as f:
        f.write(b'P6\n%d %d\n255\n' % (img.shape[1], img.shape[0]) + img.tobytes())


def read_image(path):
    """RGB uint8 HxWx3: binary PPM (no comments) by hand, anything else through PIL."""
    with open(path, 'rb') as f:
        data = f.read()
    m = re.match(rb'P6\s+(\d+)\s+(\d+)\s+255\s', data)
    if m:
        w, h = int(m[1]), int(m[2])
        img = np.frombuffer(data, np.uint8, w * h * 3, m.end()).reshape(h, w, 3)
    else:
        from PIL import Image
        img = np.asarray(Image.open(path).convert('RGB'))
    assert img.shape == (H, W, 3), f'{path}: {img.shape[1]}x{img.shape[0]}, need {W}x{H}'
    return img


def network_input(imgs):
    """BGR, (p - 127.5) / 128, NCHW: what the port's lfw_eval feeds the net (cv2 images)."""
    x = (np.stack(imgs)[..., ::-1].astype(np.float64) - 127.5) / 128.0
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


# ---- running spherecl and checking it ------------------------------------------------------------
class Failed(Exception):
    pass


def run(cmd, what=None):
    """Runs a command, printing it and the end of its output; raises Failed(what) if it fails."""
    print('$ ' + ' '.join(shlex.quote(c) for c in cmd), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = r.stdout.strip().splitlines()
    for line in lines[:8] + ([f'... ({len(lines) - 8} more lines)'] if len(lines) > 8 else []):
        print('  ' + line)
    if r.returncode != 0 and what:
        raise Failed(f'{what} failed (exit status {r.returncode})')
    return r.returncode


def rel_err(a, b):
    return float(np.linalg.norm(np.asarray(a, np.float64) - b) / np.linalg.norm(b))


def load_pth(path):
    # weights_only (torch >= 1.13): the file may hold only tensors, dicts and the like
    safe = 'weights_only' in inspect.signature(torch.load).parameters
    return torch.load(path, weights_only=True) if safe else torch.load(path)


def import_and_embed(spherecl, tag, flag, src, paths, wk):
    """`spherecl import` then `embed`: the .scl file and the embeddings [n, EMBED] (float64)."""
    scl, feats = wk(tag + '.scl'), wk(tag + '.f32')
    run([spherecl, 'import', flag, src, '--out', scl], f'import {flag} {src}')
    run([spherecl, 'embed', '--model', scl, '--no-mirror', '--format', 'f32', '--out', feats] + paths,
        f'embed with {scl}')
    e = np.fromfile(feats, '<f4').astype(np.float64)
    if e.size != len(paths) * EMBED:
        raise Failed(f'{feats}: {e.size} floats, expected {len(paths)}x{EMBED}')
    return scl, e.reshape(len(paths), EMBED)


def export_and_load(spherecl, scl, model, sd, problems):
    """`spherecl export`: the original's keys in order, same shapes and dtypes, bit-identical tensors.
    Returns a network loaded from it (strict)."""
    out = scl[:-4] + '-export.pth'
    run([spherecl, 'export', '--model', scl, '--pytorch', out], f'export of {scl}')
    with open(out, 'rb') as f:
        print(f'  ({"zip" if f.read(2) == b"PK" else "legacy"} format)')
    got = load_pth(out)
    os.remove(out)
    if list(got) != list(sd):
        problems.append(f'{out}: keys differ: {sorted(set(got) ^ set(sd)) or "(their order)"}')
    for k in set(got) & set(sd):
        if got[k].shape != sd[k].shape or got[k].dtype != sd[k].dtype or not torch.equal(got[k], sd[k]):
            problems.append(f'{out}: {k} {tuple(got[k].shape)} {got[k].dtype} is not the original')
    m = copy.deepcopy(model)
    m.load_state_dict(got, strict=True)  # raises on missing/unexpected keys or shapes
    return m


def refuses_truncated(spherecl, flag, src, wk):
    cut = wk('cut-' + os.path.basename(src))
    with open(src, 'rb') as f, open(cut, 'wb') as g:
        g.write(f.read()[:os.path.getsize(src) // 2])
    status = run([spherecl, 'import', flag, cut, '--out', wk('cut.scl')])
    os.remove(cut)
    return status != 0


# ---- main ----------------------------------------------------------------------------------------
def write_models(model, base):
    """The legacy and zip .pth and, with google.protobuf, the two .caffemodels: [(tag, flag, path)]."""
    sd = model.state_dict()
    torch.save(sd, base + '.pth', _use_new_zipfile_serialization=False)
    back = load_pth(base + '.pth')
    assert list(back) == list(sd) and all(torch.equal(back[k], v) for k, v in sd.items())
    print(f'wrote {base}.pth (legacy format): {len(sd)} tensors, {sum(map(torch.numel, sd.values()))} floats')
    sources = [('pt', '--pytorch', base + '.pth')]
    if hasattr(torch.serialization, '_open_zipfile_writer'):  # torch >= 1.6: its default, the zip format
        torch.save(sd, base + '-zip.pth')
        print(f'wrote {base}-zip.pth (zip format)')
        sources.append(('pt-zip', '--pytorch', base + '-zip.pth'))
    try:
        C = caffe_classes()
    except ImportError:
        print('parity: skipping the Caffe part: no google.protobuf (apt-get install python3-protobuf)')
        return sources
    layers = caffe_layers(model, sd)
    for tag, suffix, v1 in [('caffe', '.caffemodel', False), ('caffe-v1', '-v1.caffemodel', True)]:
        write_caffe(C, layers, base + suffix, v1)
        check_caffe(C, layers, base + suffix, v1)
        print(f'wrote {base}{suffix}: {"V1 " if v1 else ""}Caffe, {len(layers)} layers (read back)')
        sources.append((tag, '--caffe', base + suffix))
    return sources


def image_paths(images, wk):
    if not images:  # 4 synthetic ones
        paths = [wk(f'face{i}.ppm') for i in range(4)]
        for p, img in zip(paths, smooth_images(4, np.random.default_rng(0))):
            write_ppm(p, img)
        return paths
    return sorted(p for d in images for p in (glob.glob(os.path.join(d, '*')) if os.path.isdir(d) else [d])
                  if p.lower().endswith(('.ppm', '.png', '.jpg', '.jpeg')))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('spherecl')
    ap.add_argument('--work', required=True)
    ap.add_argument('--images', nargs='+', help='96x112 PNG/JPEG/PPM files, or folders of them')
    ap.add_argument('--depth', type=int, default=20, choices=sorted(UNITS))
    ap.add_argument('--classes', type=int, default=10)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    wk = lambda name: os.path.join(a.work, name)
    torch.set_num_threads(min(2, torch.get_num_threads()))

    model = SphereNet(a.depth, a.classes)
    random_weights(model)
    sd = model.state_dict()
    sources = write_models(model, wk(f'sphere{a.depth}a'))
    paths = image_paths(a.images, wk)
    names = [os.path.basename(p) for p in paths]
    x64 = network_input([read_image(p) for p in paths])
    ref = embed(copy.deepcopy(model).double(), x64).numpy()  # the truth
    x32 = x64.float()
    torch32 = [rel_err(e, r) for e, r in zip(embed(model, x32).numpy(), ref)]

    problems, rows = [], []  # rows: (model, image, rel err, torch float32's rel err or None)
    for tag, flag, src in sources:
        try:
            scl, e = import_and_embed(a.spherecl, tag, flag, src, paths, wk)
            rows += [(tag, n, rel_err(ei, r), t) for n, ei, r, t in zip(names, e, ref, torch32)]
            if not refuses_truncated(a.spherecl, flag, src, wk):
                problems.append(f'import {flag} of a truncated {os.path.basename(src)} succeeded')
            m = export_and_load(a.spherecl, scl, model, sd, problems)
            rows += [(tag + '-export*', n, rel_err(em, ei), None)
                     for n, em, ei in zip(names, embed(m, x32).numpy(), e)]
        except Exception as ex:  # Failed, or torch.load / load_state_dict refusing an export
            problems.append(f'{tag}: {ex}' if isinstance(ex, Failed) else f'{tag}: {type(ex).__name__}: {ex}')

    print(f'\n{"model":<16} {"image":<16} {"rel err vs f64":>15} {"torch f32 vs f64":>17}')
    for tag, img, err, t in rows:
        print(f'{tag:<16} {img:<16} {err:15.3e} {"" if t is None else f"{t:.3e}":>17}'
              + ('' if err <= TOL else '   > tolerance'))
    print("(*: PyTorch on the exported weights, against spherecl's embeddings)")
    errs = [r[2] if r[2] == r[2] else float('inf') for r in rows]  # NaN counts as the worst
    worst = max(errs, default=float('nan'))
    if worst > TOL:
        problems.append(f'{sum(e > TOL for e in errs)} of {len(rows)} embeddings differ by more than {TOL:g} '
                        f'(worst {worst:.3e})')
    if problems:
        print('parity: FAIL ' + '; '.join(' '.join(p.split()) for p in problems))
        return 1
    print(f'parity: OK (max rel err {worst:.3e})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
