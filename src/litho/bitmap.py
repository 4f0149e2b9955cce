"""Bitmap masks of a maskless (DMD / LCoS) exposure: read and write PNG and NPY.

A bitmap holds one value per mirror, the mirror's grey level as a fraction of
fully on, in [0, 1]. Its rows follow the image convention of the DMD frame
buffer and of every image viewer: row 0 is the top row of mirrors (largest
y on the wafer). :mod:`litho.maskmodel` flips it to litho's ``[y, x]``
arrays (row 0 at the smallest y).

PNG is written by a small greyscale encoder (zlib, 8 or 16 bits per sample)
and read through matplotlib's reader, so no image library is added.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from .errors import LithoInputError

BITMAP_SUFFIXES = (".png", ".npy")
# Largest bitmap accepted, mirrors per side: beyond the largest DMDs (4096 x 2176) with room to tile.
MAX_MIRRORS_PER_SIDE = 32768
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read_bitmap(path: str | Path, label: str = "bitmap") -> np.ndarray:
    """A bitmap file as grey fractions in [0, 1], shape (rows, columns), row 0 the top row.

    Parameters
    ----------
    path : str or Path
        A greyscale PNG (1 to 16 bits) or an ``.npy`` array of floats or
        booleans in [0, 1].
    label : str
        What to name in an error message (the recipe field or the option).

    Raises
    ------
    LithoInputError
        A missing or unreadable file, an unknown suffix, an image that is not
        2-D (colour or with alpha), values outside [0, 1] or not finite.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in BITMAP_SUFFIXES:
        raise LithoInputError(f"{label} = {str(path)!r}: a bitmap is a .png or .npy file")
    if not path.is_file():
        raise LithoInputError(f"{label} = {str(path)!r}: bitmap file not found")
    if suffix == ".png":
        import matplotlib.image

        try:
            with open(path, "rb") as fh:
                if fh.read(8) != _PNG_SIGNATURE:
                    raise ValueError("no PNG signature")
            data = np.asarray(matplotlib.image.imread(path, format="png"), dtype=np.float64)
        except (OSError, ValueError, SyntaxError, RuntimeError) as err:
            raise LithoInputError(f"{label} = {str(path)!r}: not a readable PNG image ({err})") from None
    else:
        try:
            data = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as err:
            raise LithoInputError(f"{label} = {str(path)!r}: not a readable .npy array ({err})") from None
        if data.dtype == bool or np.issubdtype(data.dtype, np.number) and not np.iscomplexobj(data):
            data = data.astype(np.float64)
        else:
            raise LithoInputError(f"{label} = {str(path)!r}: a .npy bitmap holds real numbers or booleans, "
                                  f"not {data.dtype}")
    return check_bitmap(data, label=f"{label} = {str(path)!r}")


def check_bitmap(data, label: str = "bitmap") -> np.ndarray:
    """``data`` as a float64 (rows, columns) array of grey fractions in [0, 1], or one line why not."""
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2:
        raise LithoInputError(f"{label}: a bitmap is 2-D (rows x columns of mirrors, greyscale); got shape "
                              f"{tuple(data.shape)}")
    if min(data.shape) < 1 or max(data.shape) > MAX_MIRRORS_PER_SIDE:
        raise LithoInputError(f"{label}: {data.shape[1]} x {data.shape[0]} mirrors; give 1 to "
                              f"{MAX_MIRRORS_PER_SIDE} per side")
    if not np.all(np.isfinite(data)) or data.min() < 0 or data.max() > 1:
        raise LithoInputError(f"{label}: grey levels must be finite fractions in [0, 1] (found "
                              f"{np.nanmin(data):g} to {np.nanmax(data):g})")
    return data


def write_bitmap(path: str | Path, levels: np.ndarray, grey_bits: int) -> None:
    """Write mirror levels (integers 0 .. 2**grey_bits - 1, row 0 the top row) as PNG or NPY.

    PNG: 8-bit greyscale for ``grey_bits`` <= 8, else 16-bit; each level is
    stored as ``round(level * max_sample / (2**grey_bits - 1))``, which
    :func:`read_bitmap` plus rounding at the same bit depth maps back to the
    same level. NPY: the grey fractions ``level / (2**grey_bits - 1)``.
    """
    path = Path(path)
    levels = np.asarray(levels)
    top = (1 << grey_bits) - 1
    if path.suffix.lower() == ".npy":
        with open(path, "wb") as fh:
            np.save(fh, levels.astype(np.float64) / top)
        return
    depth = 8 if grey_bits <= 8 else 16
    samples = np.rint(levels.astype(np.float64) * ((1 << depth) - 1) / top)
    path.write_bytes(png_bytes(samples.astype(np.uint16 if depth == 16 else np.uint8), depth))


def png_bytes(samples: np.ndarray, bit_depth: int) -> bytes:
    """A greyscale PNG (colour type 0, no interlace) of a 2-D uint8 or uint16 array, row 0 on top."""
    ny, nx = samples.shape
    rows = samples.astype(">u2" if bit_depth == 16 else "u1")
    # every scanline starts with filter type 0 (none)
    raw = b"".join(b"\x00" + rows[i].tobytes() for i in range(ny))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", nx, ny, bit_depth, 0, 0, 0, 0)
    return _PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
