"""What one sample of the user's own Dataset is: an ``(x, y)`` pair or a dict, turned into a stored tensor
and an integer label.

``x`` may be a tensor, a numpy array or a PIL image (stored C×H×W, as ``PILToTensor`` would give it; a
1-D tensor is a table row); ``y`` an int, a 0-d tensor or a numpy integer. A dict's input and label are
found under the usual keys (:data:`INPUT_KEYS`, :data:`LABEL_KEYS`) unless ``keys`` names them.
Anything else gets a :class:`~dataloupe.core.errors.DatasetError` that names what was found and what is expected.

    python -c "import numpy as np; from dataloupe.core.data.samples import SampleReader; \
print(SampleReader()({'image': np.zeros((8, 8, 3), np.uint8), 'label': 2}))"
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from dataloupe.core.errors import DatasetError
from dataloupe.core.wording import format_shape

INPUT_KEYS = ("image", "img", "pixel_values", "input", "inputs", "x", "data", "features")
"""Keys of a dict sample that hold the input, tried in this order."""
LABEL_KEYS = ("label", "labels", "target", "targets", "y", "class")
"""Keys of a dict sample that hold the label, tried in this order."""
EXPECTED = (
    "an (input, label) pair, or a dict with the input under one of "
    + ", ".join(INPUT_KEYS)
    + " and the label under one of "
    + ", ".join(LABEL_KEYS)
    + " (or name them with --keys INPUT,LABEL)"
)
"""What a sample should be, for messages."""
LIBRARIES = ("torch", "torchvision", "numpy", "PIL", "pandas", "sklearn", "datasets", "transformers")
"""Packages whose classes are named in full in messages."""


def describe(value: Any) -> str:
    """What ``value`` is, in a few words: "a str ('cat')", "a tensor 3×32×32 float32", "a dict with keys a, b"."""
    if isinstance(value, torch.Tensor):
        return f"a tensor {format_shape(value.shape)} {str(value.dtype).replace('torch.', '')}"
    if isinstance(value, np.ndarray):
        return f"a numpy array {format_shape(value.shape)} {value.dtype}"
    if isinstance(value, dict):
        keys = ", ".join(str(k) for k in list(value)[:8])
        return f"a dict with keys {keys}" if value else "an empty dict"
    if isinstance(value, list | tuple):
        kinds = sorted({type(v).__name__ for v in value[:20]})
        return f"a {type(value).__name__} of {len(value):,} ({', '.join(kinds) or 'nothing'})"
    if isinstance(value, str | int | float | bool):
        text = repr(value)
        return f"a {type(value).__name__} ({text[:40] + '…' if len(text) > 40 else text})"
    module = type(value).__module__
    name = type(value).__qualname__
    # a library's class by its full name (torch.nn.modules.linear.Linear), the user's own by its name
    return f"a {module}.{name}" if module.split(".")[0] in LIBRARIES else f"a {name}"


def to_stored(x: Any) -> torch.Tensor:
    """A sample's input as the tensor dataloupe stores: images C×H×W, table rows 1-D.

    A PIL image becomes uint8 C×H×W (``PILToTensor``); a numpy image H×W×C becomes C×H×W; a 2-D input
    gets one channel. Raises :class:`DatasetError` for anything that is not numbers.
    """
    if hasattr(x, "getbands") and hasattr(x, "mode"):  # a PIL image, without importing PIL here
        if x.mode in ("P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "1"):
            x = x.convert("RGBA" if "A" in x.mode else ("L" if x.mode == "1" else "RGB"))
        array = np.asarray(x)
        return torch.from_numpy(np.ascontiguousarray(_channels_first(array)))
    if isinstance(x, np.ndarray):
        if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
            raise DatasetError(
                f"the input is {describe(x)}: expected numbers (a tensor, array or PIL image)."
            )
        tensor = torch.from_numpy(np.ascontiguousarray(_channels_first(x)))
    elif isinstance(x, torch.Tensor):
        tensor = x.detach().cpu()
        if tensor.ndim == 2:
            tensor = tensor.unsqueeze(0)
    else:
        raise DatasetError(f"the input is {describe(x)}: expected a tensor, a numpy array or a PIL image.")
    if tensor.ndim not in (1, 3):
        raise DatasetError(
            f"the input is {describe(x)}: expected an image (C×H×W, H×W×C or H×W) or a 1-D row of features."
        )
    if tensor.dtype == torch.bool:
        tensor = tensor.to(torch.uint8)
    return tensor


def _channels_first(array: np.ndarray) -> np.ndarray:
    if array.ndim == 2:
        return array[None]
    if array.ndim == 3 and array.shape[-1] in (1, 3, 4) and array.shape[0] not in (1, 3, 4):
        return array.transpose(2, 0, 1)
    return array


def to_label(y: Any) -> int:
    """A sample's label as an int: from an int, a 0-d (or one-element) integer tensor or a numpy integer."""
    if isinstance(y, bool | np.bool_):
        return int(y)
    if isinstance(y, int | np.integer):
        return int(y)
    if (
        isinstance(y, torch.Tensor | np.ndarray)
        and y.ndim <= 1
        and (y.size if isinstance(y, np.ndarray) else y.numel()) == 1
    ):
        value = y.item()
        if isinstance(value, int | bool):
            return int(value)
    if isinstance(y, float | np.floating) or (isinstance(y, torch.Tensor) and y.is_floating_point()):
        raise DatasetError(
            f"the label is {describe(y)}: a class label must be a whole number 0..C-1 (an int, a 0-d integer "
            "tensor or a numpy integer). A float label means regression, which dataloupe does not train."
        )
    raise DatasetError(
        f"the label is {describe(y)}: expected a class number 0..C-1 (an int, a 0-d integer tensor or a "
        "numpy integer). A one-hot vector? Return its argmax."
    )


class SampleReader:
    """Turns whatever the user's Dataset returns into ``(stored tensor, int label)``."""

    def __init__(self, keys: tuple[str, str] | None = None) -> None:
        self.keys = keys
        """``(input key, label key)`` of dict samples, or None to find them."""

    def parts(self, sample: Any) -> tuple[Any, Any]:
        """The input and the label of ``sample``, as returned (not converted)."""
        if isinstance(sample, dict):
            x_key, y_key = self.dict_keys(sample)
            return sample[x_key], sample[y_key]
        if isinstance(sample, tuple | list) and len(sample) == 2:
            return sample[0], sample[1]
        if isinstance(sample, tuple | list) and len(sample) > 2:
            raise DatasetError(
                f"a sample is {describe(sample)}: expected a pair (input, label), not {len(sample)} items. "
                "Return (x, y) from __getitem__, or a dict and name its keys with --keys INPUT,LABEL."
            )
        raise DatasetError(f"a sample is {describe(sample)}: expected {EXPECTED}.")

    def dict_keys(self, sample: dict) -> tuple[str, str]:
        """The input key and the label key of a dict sample."""
        have = ", ".join(str(k) for k in sample) or "no keys"
        if self.keys is not None:
            missing = [k for k in self.keys if k not in sample]
            if missing:
                raise DatasetError(
                    f"--keys names {', '.join(missing)}, but the samples are dicts with keys {have}. "
                    "Give --keys INPUT,LABEL with two of those."
                )
            return self.keys
        x_key = next((k for k in INPUT_KEYS if k in sample), None)
        y_key = next((k for k in LABEL_KEYS if k in sample), None)
        if x_key is None or y_key is None:
            what = "an input" if x_key is None else "a label"
            tried = INPUT_KEYS if x_key is None else LABEL_KEYS
            raise DatasetError(
                f"a sample is a dict with keys {have}, and none of them looks like {what} "
                f"(tried {', '.join(tried)}). Name the keys with --keys INPUT,LABEL."
            )
        return x_key, y_key

    def __call__(self, sample: Any) -> tuple[torch.Tensor, int]:
        """``(stored tensor, int label)`` of one sample."""
        x, y = self.parts(sample)
        return to_stored(x), to_label(y)

    def batch(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """``(X, y)`` of one batch from the user's own DataLoader (its collate_fn's output)."""
        x, y = self.parts(batch)
        if not isinstance(x, torch.Tensor):
            raise DatasetError(
                f"a batch's input is {describe(x)}: expected one tensor (your collate_fn should stack the samples)."
            )
        if isinstance(y, list | tuple):
            y = torch.as_tensor([to_label(v) for v in y])
        if not isinstance(y, torch.Tensor) or y.is_floating_point():
            raise DatasetError(f"a batch's labels are {describe(y)}: expected a tensor of class numbers.")
        return x, y.reshape(-1).to(torch.int64)


def feature_class_names(dataset: Any, keys: tuple[str, str] | None = None) -> list[str] | None:
    """Class names declared in a Hugging Face ``Dataset``'s ``features``: the label's ``ClassLabel`` names.

    The label is ``keys[1]`` when given, else the first of :data:`LABEL_KEYS` that is a ``ClassLabel``,
    else the only ``ClassLabel``. A wrapper's (a ``Subset``'s) parent is asked too. Read by duck
    typing (``features[name].names``): ``datasets`` is not imported.
    """
    for ds in (dataset, getattr(dataset, "dataset", None)):
        features = getattr(ds, "features", None)
        if not isinstance(features, dict):
            continue
        labelled = {
            k: f.names for k, f in features.items() if isinstance(getattr(f, "names", None), list | tuple)
        }
        if keys is not None:
            names = labelled.get(keys[1])
        else:
            names = next((labelled[k] for k in LABEL_KEYS if k in labelled), None)
            if names is None and len(labelled) == 1:
                names = next(iter(labelled.values()))
        if names:
            return [str(n) for n in names]
    return None
