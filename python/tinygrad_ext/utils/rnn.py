"""utils.rnn: PackedSequence, pad_sequence, pack_padded_sequence, pad_packed_sequence,
pack_sequence, unpad_sequence and unpack_sequence (torch.nn.utils.rnn's names and semantics).

A PackedSequence holds the time steps of a batch of sequences sorted by decreasing length, one
step after another: ``data`` is (sum(lengths), *) and ``batch_sizes[t]`` says how many sequences
are still running at step t. RNN/LSTM/GRU accept it and run a masked loop (rows stop updating
after their last step), so h_n is each sequence's state at its own last step. Packing and
unpacking are index_select gathers, so gradients flow through them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import _C

__all__ = [
    "PackedSequence",
    "pad_sequence",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pack_sequence",
    "unpad_sequence",
    "unpack_sequence",
]


class PackedSequence(NamedTuple):
    data: _C.Tensor
    batch_sizes: _C.Tensor
    sorted_indices: _C.Tensor | None = None
    unsorted_indices: _C.Tensor | None = None

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False

    def to(self, *args, **kwargs) -> PackedSequence:
        return self._replace(data=self.data.to(*args, **kwargs))

    def double(self) -> PackedSequence:
        return self._replace(data=self.data.double())

    def float(self) -> PackedSequence:
        return self._replace(data=self.data.float())


def _index(values) -> _C.Tensor:
    return _C.tensor(np.asarray(values, dtype=np.int64))


def _lengths_array(lengths) -> np.ndarray:
    if isinstance(lengths, _C.Tensor):
        lengths = lengths.numpy()
    arr = np.asarray(lengths)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"[pack_padded_sequence] lengths must be a 1-d list of ints, got {lengths!r}")
    return arr.astype(np.int64)


def _packed_rows(batch_sizes: np.ndarray) -> np.ndarray:
    """Row of each packed element in the time-major padded (T * B) layout, in packed order."""
    B = int(batch_sizes[0]) if batch_sizes.size else 0
    return np.concatenate(
        [t * B + np.arange(int(n), dtype=np.int64) for t, n in enumerate(batch_sizes)]
        or [np.zeros(0, np.int64)]
    )


def _padded_index(batch_sizes: np.ndarray, total_length: int) -> np.ndarray:
    """For each (t, b) of the padded (total_length, B) layout: its packed row, or len(data)."""
    B = int(batch_sizes[0]) if batch_sizes.size else 0
    n = int(batch_sizes.sum())
    idx = np.full((total_length, B), n, dtype=np.int64)
    idx.reshape(-1)[_packed_rows(batch_sizes)] = np.arange(n, dtype=np.int64)
    return idx.reshape(-1)


def _packed_to_padded(seq: PackedSequence, padding_value: float = 0.0, total_length=None):
    """Sorted, time-major padded tensor (T, B, *) and the sorted lengths (numpy int64)."""
    bs = seq.batch_sizes.numpy().astype(np.int64)
    T = int(bs.size) if total_length is None else int(total_length)
    data = seq.data
    feat = tuple(data.shape[1:])
    pad_row = _C.full((1, *feat), padding_value, dtype=data.dtype)
    ext = _C.cat([data, pad_row], 0)
    padded = ext.index_select(0, _index(_padded_index(bs, T))).reshape(T, int(bs[0]), *feat)
    lengths = (bs[None, :] > np.arange(int(bs[0]))[:, None]).sum(1).astype(np.int64)
    return padded, lengths


def _padded_to_packed_data(padded, batch_sizes: np.ndarray):
    T, B = padded.shape[0], padded.shape[1]
    flat = padded.reshape(T * B, *tuple(padded.shape[2:]))
    return flat.index_select(0, _index(_packed_rows(batch_sizes)))


def _invert_permutation(perm: np.ndarray) -> np.ndarray:
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size, dtype=perm.dtype)
    return inv


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right"):
    """Stacks tensors of shape (L_i, *) into (T, B, *) (or (B, T, *)), padding to the longest."""
    if isinstance(sequences, _C.Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    T = max(s.shape[0] for s in sequences)
    cols = []
    for s in sequences:
        if s.shape[0] < T:
            pad = _C.full((T - s.shape[0], *tuple(s.shape[1:])), padding_value, dtype=s.dtype)
            s = _C.cat([s, pad] if padding_side == "right" else [pad, s], 0)
        cols.append(s)
    return _C.stack(cols, 0 if batch_first else 1)


def pack_padded_sequence(input, lengths, batch_first: bool = False, enforce_sorted: bool = True):
    """Packs a padded batch (T, B, *) (or (B, T, *)) of sequences with the given lengths."""
    lens = _lengths_array(lengths)
    bdim = 0 if batch_first else 1
    if lens.size != input.shape[bdim]:
        raise ValueError(
            f"[pack_padded_sequence] expected {input.shape[bdim]} lengths (the batch size), "
            f"got {lens.size}"
        )
    if lens.size and lens.min() <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0"
        )
    T = input.shape[1 - bdim]
    if lens.size and lens.max() > T:
        raise RuntimeError(f"[pack_padded_sequence] a length {lens.max()} exceeds the sequence length {T}")
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
                "to sidestep this requirement if you do not need ONNX exportability."
            )
        sorted_idx = unsorted_idx = None
    else:
        perm = np.argsort(-lens, kind="stable").astype(np.int64)
        sorted_idx, unsorted_idx = _index(perm), _index(_invert_permutation(perm))
        input = input.index_select(bdim, sorted_idx)
        lens = lens[perm]
    if batch_first:
        input = input.transpose(0, 1)
    max_len = int(lens.max()) if lens.size else 0
    batch_sizes = (lens[None, :] > np.arange(max_len)[:, None]).sum(1).astype(np.int64)
    data = _padded_to_packed_data(input[:max_len], batch_sizes)
    return PackedSequence(data, _index(batch_sizes), sorted_idx, unsorted_idx)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length=None):
    """Inverse of pack_padded_sequence: (padded, lengths) in the original batch order."""
    T = int(sequence.batch_sizes.shape[0])
    if total_length is not None:
        if total_length < T:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, "
                f"but got total_length={total_length} and max sequence length being {T}"
            )
    padded, lengths = _packed_to_padded(sequence, padding_value, total_length)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices.numpy()]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, _index(lengths)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first: bool = False):
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, : int(n)] for i, n in enumerate(_lengths_array(lengths))]


def unpack_sequence(packed_sequences: PackedSequence):
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
