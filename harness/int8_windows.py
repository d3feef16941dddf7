"""Where the filter windows of a conv or pool fall: output size, padding, and the
patches of an NHWC input as a strided view (numpy-int8's window geometry)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness import quant
from harness.model import Op


@dataclass
class Windows:
    """Where the filter windows of a conv or pool fall on an [N, H, W, C] input."""

    out_hw: tuple[int, int]
    pad: tuple[int, int, int, int]  # rows before, rows after, columns before, columns after
    stride: tuple[int, int]
    dilation: tuple[int, int]
    valid: np.ndarray  # [OH, OW, KH, KW]: the window element is inside the input

    @classmethod
    def of(cls, in_hw: tuple[int, int], k_hw: tuple[int, int], stride: tuple[int, int],
           dilation: tuple[int, int], padding: int) -> Windows:
        out, pad, ok = [], [], []
        for n, k, s, d in zip(in_hw, k_hw, stride, dilation, strict=True):
            size, before = quant.conv_output_and_padding(n, k, s, d, padding)
            idx = (np.arange(size) * s - before)[:, None] + np.arange(k) * d  # [O, K]
            out.append(size)
            pad += [before, max(0, int(idx.max()) - (n - 1))]
            ok.append((idx >= 0) & (idx < n))
        valid = ok[0][:, None, :, None] & ok[1][None, :, None, :]
        return cls((out[0], out[1]), (pad[0], pad[1], pad[2], pad[3]), stride, dilation, valid)

    def patches(self, x: np.ndarray, fill: int) -> np.ndarray:
        """[N, OH, OW, C, KH, KW] windows of ``x``, ``fill`` where they hang over
        the edge (a strided view where possible, no copy)."""
        n, h, w, c = x.shape
        top, bottom, left, right = self.pad
        if top or bottom or left or right:
            padded = np.full((n, h + top + bottom, w + left + right, c), fill, x.dtype)
            padded[:, top:top + h, left:left + w] = x
            x = padded
        kh, kw = self.valid.shape[2:]
        (sh, sw), (dh, dw), (oh, ow) = self.stride, self.dilation, self.out_hw
        view = np.lib.stride_tricks.sliding_window_view(
            x, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(1, 2))
        return view[:, :(oh - 1) * sh + 1:sh, :(ow - 1) * sw + 1:sw, :, ::dh, ::dw]


def window_options(op: Op) -> tuple[tuple[int, int], tuple[int, int], int]:
    """Stride, dilation and padding code of a conv or pool op."""
    o = op.options
    stride = (int(o.get("strideH", 1)), int(o.get("strideW", 1)))
    dilation = (int(o.get("dilationHFactor", 1) or 1), int(o.get("dilationWFactor", 1) or 1))
    return stride, dilation, int(o.get("padding", quant.PADDING_SAME))
