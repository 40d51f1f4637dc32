#!/usr/bin/env python3
"""Makes photo-like 640x480 JPEGs for the preprocessing benchmark from the golden images.

    .venv/bin/python scripts/make_bench_jpegs.py OUT_DIR [COUNT]     (COUNT defaults to 200)

Each file is a random crop (4:3, 35-100% of the largest such crop, anywhere in the image) of one of the golden
images in ../shared/reference/golden/images (SHARED overrides ../shared), flipped left-right half of the time,
resized to 640x480 with Pillow's LANCZOS and saved as a baseline 4:2:0 JPEG at quality 90: the size and
encoding of a typical web or phone-resized photo. Seeded, so every run writes the same bytes.
"""
import os
import random
import sys

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get('SHARED', os.path.join(HERE, '..', '..', 'shared'))
GOLDEN = os.path.join(SHARED, 'reference', 'golden', 'images')
SOURCES = ['chelsea.jpg', 'coffee.png', 'camera.png', 'horse.png', 'rocket.jpg']
WIDTH, HEIGHT = 640, 480


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.strip().splitlines()[2].strip())
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) == 3 else 200
    os.makedirs(out, exist_ok=True)
    sources = [Image.open(os.path.join(GOLDEN, name)).convert('RGB') for name in SOURCES]
    rng = random.Random(20240601)
    for index in range(count):
        image = sources[index % len(sources)]
        w, h = image.size
        # The largest 4:3 crop, then a random fraction of it at a random position.
        full_w = min(w, h * 4 / 3)
        scale = rng.uniform(0.35, 1.0) ** 0.5
        crop_w = max(8, full_w * scale)
        crop_h = crop_w * 3 / 4
        left = rng.uniform(0, w - crop_w)
        top = rng.uniform(0, h - crop_h)
        crop = image.resize((WIDTH, HEIGHT), Image.LANCZOS, box=(left, top, left + crop_w, top + crop_h))
        if rng.random() < 0.5:
            crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
        crop.save(os.path.join(out, f'bench{index:04d}.jpg'), 'JPEG', quality=90, subsampling=2,
                  progressive=False, optimize=False)
    print(f'wrote {count} {WIDTH}x{HEIGHT} JPEGs to {out}')


if __name__ == '__main__':
    main()
