#!/usr/bin/python3
"""Writes small NIfTI-1 fixtures with nibabel, and a manifest of what nibabel reads back from them.

Run from the repository root:  /usr/bin/python3 data/src/test/python/gen_nifti_fixtures.py
Manifest columns (tab-separated): file, datatype code, dims, nibabel's affine (12 numbers, row-major 3x4),
the voxel values as nibabel's get_fdata() gives them (i fastest), the qform affine, the sform affine.
"""
import gzip
import os

import nibabel as nib
import numpy as np

OUT = "data/src/test/resources/nifti"


def rotation(ax, ay, az):
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def affine(rot, spacing, offset, flip_k=False):
    m = np.eye(4)
    m[:3, :3] = rot @ np.diag(spacing)
    if flip_k:
        m[:3, 2] *= -1
    m[:3, 3] = offset
    return m


def fmt(values):
    return ",".join(repr(float(v)) for v in values)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20220)
    cases = []
    shape = (4, 3, 2)
    n = int(np.prod(shape))
    base = np.arange(n).reshape(shape, order="F")

    def add(name, data, aff, dtype, qform_only=False, sform_only=False, slope=None, inter=None, big=False,
            gz=False):
        img = nib.Nifti1Image(data.astype(dtype), None)
        hdr = img.header
        if big:
            hdr = hdr.as_byteswapped(">")
            img = nib.Nifti1Image(data.astype(np.dtype(dtype).newbyteorder(">")), None, header=hdr)
        img.set_qform(None if sform_only else aff, code=0 if sform_only else 1)
        img.set_sform(None if qform_only else aff, code=0 if qform_only else 2)
        if slope is not None:
            img.header.set_slope_inter(slope, inter)
        path = os.path.join(OUT, name)
        nib.save(img, path)
        back = nib.load(path)
        values = np.asarray(back.get_fdata()).ravel(order="F")
        cases.append((name, back.header["datatype"].item(), ",".join(map(str, back.shape)),
                      fmt(back.affine[:3].ravel()), fmt(values), fmt(back.get_qform()[:3].ravel()),
                      fmt(back.get_sform()[:3].ravel())))

    rot = rotation(0.3, -0.2, 0.5)
    add("u8.nii", base + 200, affine(np.eye(3), (0.8, 0.8, 2.5), (-10, 20, 30)), np.uint8)
    add("i16_be.nii", base * 1000 - 12000, affine(rot, (1, 1.5, 2), (5, -6, 7)), np.int16, big=True)
    add("i32_qform_flip.nii", base - 7, affine(rot, (0.5, 0.7, 1.2), (1, 2, 3), flip_k=True), np.int32,
        qform_only=True)
    add("f32_scaled.nii.gz", base.astype(np.float32) * 0.25, affine(np.eye(3), (1, 1, 1), (0, 0, 0)),
        np.float32, slope=2.0, inter=-3.0)
    add("i16_scaled.nii", base * 3 - 20, affine(rot, (2, 2, 2), (0, 0, 0)), np.int16, slope=0.5,
        inter=-1024.0)
    add("f64.nii", rng.normal(size=shape), affine(np.eye(3), (1, 2, 3), (4, 5, 6)), np.float64)
    add("u16.nii", base * 2000 + 10, affine(np.eye(3), (1, 1, 1), (0, 0, 0)), np.uint16)
    add("i8_sform_only.nii", base - 12, affine(np.diag([-1, -1, 1]) @ rot, (1, 1, 1), (9, 8, 7)), np.int8,
        sform_only=True)
    with open(os.path.join(OUT, "manifest.tsv"), "w") as f:
        f.write("# file\tdatatype\tdims\taffine\tvalues\tqform\tsform\n")
        for c in cases:
            f.write("\t".join(map(str, c)) + "\n")


if __name__ == "__main__":
    main()
