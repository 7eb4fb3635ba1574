"""Datasets, samplers and the DataLoader (``torch.utils.data`` names and behaviour, in-process).

A map-style dataset has ``__getitem__(i)`` and ``__len__``; a sampler yields indices; a batch
sampler yields lists of indices; ``collate_fn`` turns a list of samples into a batch. Randomness
comes from ``tinygrad_ext.randperm`` / ``randint`` with an optional ``tinygrad_ext.Generator``, so
``tgx.manual_seed(s)`` (or a seeded generator) makes shuffling reproducible.

Fast path: a :class:`TensorDataset` (or a :class:`Subset` of one) with the default collate gathers
each batch with one ``index_select`` per tensor instead of stacking ``batch_size`` samples.
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Callable, Generic, TypeVar

import numpy as np

from .. import _C
from .._C import Tensor

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "random_split",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "BatchSampler",
    "default_collate",
    "DataLoader",
]

T_co = TypeVar("T_co", covariant=True)


# ---- datasets ------------------------------------------------------------------------------------
class Dataset(Generic[T_co]):
    """A map-style dataset: subclasses implement ``__getitem__`` (and usually ``__len__``)."""

    def __getitem__(self, index) -> T_co:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """A stream of samples: subclasses implement ``__iter__`` (no indices, no sampler)."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        raise TypeError("IterableDataset does not support concatenation with +")


class TensorDataset(Dataset):
    """Samples are the i-th rows of each tensor (all tensors share the first dimension)."""

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("[TensorDataset] needs at least one tensor")
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"[TensorDataset] expects Tensors, got {type(t).__name__}")
            if t.dim() == 0:
                raise ValueError("[TensorDataset] tensors need a first (sample) dimension")
        n = tensors[0].shape[0]
        if any(t.shape[0] != n for t in tensors):
            sizes = [t.shape[0] for t in tensors]
            raise ValueError(f"[TensorDataset] size mismatch between tensors: {sizes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (in that order)."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """The datasets one after the other."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += n
        if idx >= n:
            raise IndexError(f"[ConcatDataset] index {idx} is out of range for length {n}")
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[d - 1] if d > 0 else 0
        return self.datasets[d][idx - start]


def _randperm(n: int, generator=None) -> list[int]:
    return _C.randperm(n, generator=generator).tolist()


def random_split(dataset: Dataset, lengths: Sequence[int | float], generator=None) -> list[Subset]:
    """Splits into non-overlapping random subsets of the given lengths (or fractions summing to 1).

    Fractions are floored and the remainder handed out one at a time round-robin, as PyTorch does.
    """
    n = len(dataset)
    lengths = list(lengths)
    if (
        lengths
        and all(isinstance(x, float) or isinstance(x, np.floating) for x in lengths)
        and math.isclose(sum(lengths), 1)
        and sum(lengths) <= 1
    ):
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        sizes = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, s in enumerate(sizes):
            if s == 0:
                warnings.warn(
                    f"Length of split at index {i} is 0. This might result in an empty dataset.",
                    stacklevel=2,
                )
        lengths = sizes
    if any(isinstance(x, bool) or int(x) != x or x < 0 for x in lengths):
        raise ValueError(
            f"[random_split] lengths must be non-negative integers or fractions "
            f"summing to 1, got {lengths}"
        )
    lengths = [int(x) for x in lengths]
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    perm = _randperm(n, generator)
    out, offset = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[offset : offset + length]))
        offset += length
    return out


# ---- samplers ------------------------------------------------------------------------------------
class Sampler(Generic[T_co]):
    """Base class: ``__iter__`` yields dataset indices (or lists of them for batch samplers)."""

    def __init__(self, data_source=None) -> None:
        pass

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """A random permutation (or, with replacement, num_samples independent uniform draws)."""

    def __init__(
        self, data_source, replacement: bool = False, num_samples: int | None = None, generator=None
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(
                f"replacement should be a boolean value, but got replacement={replacement}"
            )
        if (
            not isinstance(self.num_samples, int)
            or isinstance(self.num_samples, bool)
            or self.num_samples <= 0
        ):
            raise ValueError(
                "num_samples should be a positive integer value, but got "
                f"num_samples={self.num_samples}"
            )

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        if self.replacement:
            draws = _C.randint(0, n, (self.num_samples,), generator=self.generator)
            yield from draws.tolist()
            return
        for _ in range(self.num_samples // n):
            yield from _randperm(n, self.generator)
        yield from _randperm(n, self.generator)[: self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices in a random order."""

    def __init__(self, indices: Sequence[int], generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in _randperm(len(self.indices), self.generator):
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler[list]):
    """Groups a sampler's indices into lists of batch_size (the last one shorter unless dropped)."""

    def __init__(self, sampler, batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list]:
        # islice takes each batch in one C-level call (a Python loop per index cost ~25 us per
        # batch of 32, a sixth of a small MLP's training step)
        it = iter(self.sampler)
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if len(batch) < self.batch_size:
                if batch and not self.drop_last:
                    yield batch
                return
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


# ---- collation -----------------------------------------------------------------------------------
def default_collate(batch: list) -> Any:
    """Stacks a list of samples into a batch, recursing into dicts, tuples/lists and namedtuples.

    Tensors are stacked on a new first dimension; NumPy arrays and scalars become tensors (Python
    floats float64, ints int64, bools bool); strings stay a list; a tuple of fields becomes a list
    of batched fields (PyTorch's convention).
    """
    if not isinstance(batch, (list, tuple)) or len(batch) == 0:
        raise ValueError("[default_collate] expects a non-empty list of samples")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _C.stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind not in "biuf":
            raise TypeError(
                f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                f"dicts or lists; found numpy array of dtype {elem.dtype}"
            )
        return _C.tensor(np.stack(batch))
    if isinstance(elem, np.generic) and elem.dtype.kind in "biuf":
        return _C.tensor(np.array(batch))
    if isinstance(elem, bool):
        return _C.tensor(list(batch), dtype=_C.bool)
    if isinstance(elem, int):
        return _C.tensor(list(batch), dtype=_C.int64)
    if isinstance(elem, float):
        return _C.tensor(list(batch), dtype=_C.float64)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(
        "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
        f"lists; found {type(elem).__name__}"
    )


def _tensor_source(dataset):
    """(TensorDataset, index map or None) when batches can be gathered in one call per tensor."""
    indices = None
    while isinstance(dataset, Subset):
        idx = list(dataset.indices)
        indices = idx if indices is None else [idx[i] for i in indices]
        dataset = dataset.dataset
    if type(dataset) is TensorDataset:
        return dataset, indices
    return None, None


# ---- DataLoader ----------------------------------------------------------------------------------
class DataLoader(Generic[T_co]):
    """Iterates over a dataset in batches.

    Args:
        dataset: a map-style :class:`Dataset` (anything with ``__getitem__``/``__len__``) or an
            :class:`IterableDataset`.
        batch_size: samples per batch (None: no batching, yield samples as they are).
        shuffle: reshuffle every epoch (a :class:`RandomSampler` with ``generator``).
        sampler / batch_sampler: custom index order / custom batches (mutually exclusive with
            shuffle, batch_size, drop_last as in PyTorch).
        drop_last: drop the last incomplete batch.
        collate_fn: merges a list of samples (default :func:`default_collate`).
        generator: a ``tinygrad_ext.Generator`` for the shuffling.
        num_workers: only 0 is supported; larger values load in the main process with a warning.
    """

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler=None,
        batch_sampler=None,
        num_workers: int = 0,
        collate_fn: Callable | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn=None,
        generator=None,
        *,
        prefetch_factor=None,
        persistent_workers: bool = False,
    ) -> None:
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to "
                "disable multiprocessing."
            )
        if num_workers > 0:
            warnings.warn(
                f"DataLoader: num_workers={num_workers} is not supported; loading in "
                "the main process",
                UserWarning,
                stacklevel=2,
            )
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)

        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle "
                    f"option, but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler "
                    f"option, but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified "
                    f"batch_sampler option, but got batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)
            if sampler is not None and shuffle:
                raise ValueError("sampler option is mutually exclusive with shuffle")
            if batch_sampler is not None:
                if batch_size != 1 or shuffle or sampler is not None or drop_last:
                    raise ValueError(
                        "batch_sampler option is mutually exclusive with batch_size, "
                        "shuffle, sampler, and drop_last"
                    )
                batch_size = None
                drop_last = False
            elif batch_size is None and drop_last:
                raise ValueError(
                    "batch_size=None option disables auto-batching and is mutually "
                    "exclusive with drop_last"
                )
            if sampler is None:
                sampler = (
                    RandomSampler(dataset, generator=generator)
                    if shuffle
                    else SequentialSampler(dataset)
                )
            if batch_size is not None and batch_sampler is None:
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._default_collate = collate_fn is None
        self.collate_fn = collate_fn if collate_fn is not None else default_collate

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError if the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self) -> Iterator:
        if self._iterable:
            yield from self._iter_stream()
            return
        if self.batch_sampler is None:  # no auto-batching: one sample per step, no collate
            for i in self.sampler:
                yield self.dataset[i]
            return
        source, index_map = (None, None)
        if self._default_collate:
            source, index_map = _tensor_source(self.dataset)
        for batch in self.batch_sampler:
            if source is not None:
                idx = [index_map[i] for i in batch] if index_map is not None else list(batch)
                yield self._gather(source, idx)
            else:
                yield self.collate_fn([self.dataset[i] for i in batch])

    @staticmethod
    def _gather(source: TensorDataset, idx: list) -> list:
        index = _C.tensor(idx, dtype=_C.int64)
        # one gather per tensor, the same result as stacking source[i] for i in idx;
        # a list, as default_collate returns for tuple samples
        # (t[index]: the same rows as t.index_select(0, index), about twice as fast here)
        return [t[index] for t in source.tensors]

    def _iter_stream(self) -> Iterator:
        it = iter(self.dataset)
        if self.batch_size is None:
            yield from it
            return
        batch = []
        for sample in it:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)
