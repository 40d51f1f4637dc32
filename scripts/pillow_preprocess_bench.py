#!/usr/bin/env python3
"""Times the reference preprocessing (../shared/reference/make_reference.py `preprocess`) with Pillow and NumPy,
for comparison with `bottleneck bench-images`:

    .venv/bin/python scripts/pillow_preprocess_bench.py DIR [--rounds R]

Every .jpg/.jpeg/.png in DIR is read into memory first (the disk is not timed), then each round decodes and
preprocesses all of them on one thread, exactly as the reference does: Image.open(BytesIO).convert('RGB'),
resize so the shorter side is 256 (Image.BILINEAR, Python round), center crop 224, (v - 127) / 128 as float32,
left NHWC (the engine's layout; the reference's transpose to NCHW is not timed). One untimed warm-up round,
then R rounds (default 5); prints the median, e.g.

    pillow-preprocess threads=1 images=200 median 301.2 img/s
"""
import argparse
import io
import os
import statistics
import time

import numpy as np
import PIL
from PIL import Image

SIZE, RESIZE_TO, MEAN, STD = 224, 256, 127.0, 128.0


def preprocess(data):
    im = Image.open(io.BytesIO(data)).convert('RGB')
    w, h = im.size
    s = RESIZE_TO / min(w, h)
    im = im.resize((round(w * s), round(h * s)), Image.BILINEAR)
    w, h = im.size
    left, top = (w - SIZE) // 2, (h - SIZE) // 2
    im = im.crop((left, top, left + SIZE, top + SIZE))
    return (np.asarray(im, np.float32) - MEAN) / STD


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('directory')
    parser.add_argument('--rounds', type=int, default=5)
    args = parser.parse_args()
    names = sorted(n for n in os.listdir(args.directory) if n.lower().endswith(('.jpg', '.jpeg', '.png')))
    if not names:
        raise SystemExit(f'no .jpg/.jpeg/.png files in {args.directory}')
    files = []
    for name in names:
        with open(os.path.join(args.directory, name), 'rb') as f:
            files.append(f.read())
    rates = []
    for round_index in range(args.rounds + 1):
        start = time.perf_counter()
        for data in files:
            preprocess(data)
        elapsed = time.perf_counter() - start
        if round_index > 0:
            rates.append(len(files) / elapsed)
    print(f'pillow-preprocess threads=1 images={len(files)} median {statistics.median(rates):.1f} img/s'
          f'  (Pillow {PIL.__version__}, {args.rounds} rounds, min {min(rates):.1f} max {max(rates):.1f})')


if __name__ == '__main__':
    main()
