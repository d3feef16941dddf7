"""Where the windows of a convolution or pooling fall: output sizes, padding, patches.

SAME (0) and VALID (1) are the schema's Padding codes. SAME pads half the total
before (rounded down), the odd extra row or column after, as TFLite does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Schema Padding codes.
PADDING_SAME = 0
PADDING_VALID = 1


def conv_output_size(
    in_size: int, filter_size: int, stride: int, dilation: int, padding: int
) -> int:
    """Output length along one spatial axis for SAME (0) or VALID (1) padding."""
    if stride <= 0 or dilation <= 0 or filter_size <= 0:
        raise ValueError("stride, dilation and filter size must be positive")
    effective = (filter_size - 1) * dilation + 1
    if padding == PADDING_SAME:
        return (in_size + stride - 1) // stride
    if padding == PADDING_VALID:
        return max(0, (in_size + stride - effective) // stride)
    raise ValueError(f"unsupported padding code {padding}")


def conv_output_and_padding(
    in_size: int, filter_size: int, stride: int, dilation: int, padding: int
) -> tuple[int, int]:
    """``(out_size, pad_before)`` along one spatial axis.

    ``pad_before`` is half the total padding, rounded down (any odd extra row
    or column goes after), and 0 for VALID.
    """
    out = conv_output_size(in_size, filter_size, stride, dilation, padding)
    if padding == PADDING_VALID or out == 0:
        return out, 0
    effective = (filter_size - 1) * dilation + 1
    total = (out - 1) * stride + effective - in_size
    return out, max(0, total // 2)


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
            size, before = conv_output_and_padding(n, k, s, d, padding)
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
