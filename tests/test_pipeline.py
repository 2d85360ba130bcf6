"""The pipeline: one sample at a time and a whole split at once give the same numbers; torchvision is the oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision import transforms

from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.readers import open_dataset


def test_scaled_equals_torchvision_to_tensor(mnist_test):
    from PIL import Image

    split = mnist_test.split("test")
    for i in (0, 17, 9_999):
        raw, _ = split.raw(i)
        pil = Image.fromarray(raw[0].numpy(), mode="L")
        assert torch.equal(split[i][0], transforms.ToTensor()(pil))


def test_normalized_equals_torchvision_normalize(mnist_test):
    from PIL import Image

    p = mnist_test.pipeline.with_(mode="normalized")
    split = mnist_test.split("test", p)
    reference = transforms.Compose([transforms.ToTensor(), transforms.Normalize(p.mean, p.std)])
    raw, _ = split.raw(3)
    assert torch.allclose(split[3][0], reference(Image.fromarray(raw[0].numpy(), mode="L")), atol=1e-6)
    assert "Normalize(mean=(0.13" in p.describe()  # MNIST's well-known 0.1307 / 0.3081, measured here


@pytest.mark.parametrize("mode", ["raw", "scaled", "normalized"])
def test_one_at_a_time_equals_whole_split(digits, mode):
    split = digits.split("train", digits.pipeline.with_(mode=mode))
    x, y = split.tensors()
    for i in (0, 5, len(split) - 1):
        sample, label = split[i]
        assert torch.allclose(sample, x[i], atol=1e-6) and label == int(y[i])


def test_normalized_training_split_has_zero_mean_unit_std(digits):
    x, _ = digits.split("train", digits.pipeline.with_(mode="normalized")).tensors()
    assert float(x.mean()) == pytest.approx(0.0, abs=1e-4)
    assert float(x.std()) == pytest.approx(1.0, abs=1e-3)


def test_digits_raw_values_are_0_to_16(digits):
    x, _ = digits.split("train", digits.pipeline.with_(mode="raw")).tensors()
    assert float(x.min()) == 0.0 and float(x.max()) == 16.0
    assert torch.equal(x, x.round())


def test_table_scaling_is_per_column():
    p = Pipeline("table", (0.0, 10.0), (2.0, 20.0), (0.0, 0.0), (1.0, 1.0))
    assert torch.allclose(p(torch.tensor([1.0, 15.0])), torch.tensor([0.5, 0.5]))
    assert torch.allclose(p.batch(torch.tensor([[2.0, 10.0]])), torch.tensor([[1.0, 0.0]]))
    assert "MinMaxScale" in p.describe()


def test_augmentation_changes_pixels_but_not_shape(digits):
    torch.manual_seed(0)
    split = digits.split("train", digits.pipeline.with_(augment=True))
    plain = digits.split("train")[0][0]
    outs = [split[0][0] for _ in range(5)]
    assert all(o.shape == plain.shape for o in outs)
    assert any(not torch.equal(o, plain) for o in outs)
    assert "RandomAffine" in split.pipeline.describe()


def test_rgb_augmentation_includes_a_flip():
    p = Pipeline("image", (0.0,) * 3, (255.0,) * 3, (0.5,) * 3, (0.25,) * 3, channels=3, augment=True)
    assert "RandomHorizontalFlip" in p.describe()
    x = torch.randint(0, 256, (3, 8, 8), dtype=torch.uint8)
    assert p(x).shape == (3, 8, 8)


def test_stratified_split_keeps_shares_and_is_repeatable():
    from dataloupe.core.data.datasets import stratified_split

    y = np.array([0] * 90 + [1] * 10)
    train, test = stratified_split(y, 0.2, seed=0)
    assert len(test) == 20 and int((y[test] == 1).sum()) == 2
    assert set(train) | set(test) == set(range(100)) and not set(train) & set(test)
    again = stratified_split(y, 0.2, seed=0)
    assert np.array_equal(again[1], test)


def test_digits_dataset_is_the_real_one(digits):
    assert sum(digits.splits[s].length for s in digits.split_names) == 1_797
    assert digits.split_names == ["train", "test"]
    assert len(digits.split("test")) == 359
    assert any("stratified, seed 0" in n for n in digits.notes)
    counts = np.bincount(digits.split("test").targets)
    assert counts.min() >= 35 and counts.max() <= 37  # 20% of each class of about 180


def test_handle_from_plain_datasets_with_unknown_targets():
    from torch.utils.data import TensorDataset

    from dataloupe.core.data.datasets import from_datasets

    ds = TensorDataset(torch.rand(6, 1, 4, 4), torch.tensor([0, 1, 0, 1, 1, 1]))
    handle = from_datasets("custom", {"train": ds}, ["a", "b"], targets_known=False)
    assert handle.split("train").targets is None
    assert tuple(handle.split("train")[2][0].shape) == (1, 4, 4)


def test_open_dataset_from_a_script_describes_itself():
    text = open_dataset(DatasetSpec("digits")).describe()
    assert "train 1,438, test 359 samples, 10 classes, sample 1×8×8" in text


def test_digits_read_directly_equal_scikit_learns_loader():
    from sklearn.datasets import load_digits

    from dataloupe.core.readers.digits import load_digits_arrays

    images, targets = load_digits_arrays()
    bunch = load_digits()
    assert np.array_equal(images, bunch.images) and np.array_equal(targets, bunch.target)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_moments_equal_torch_over_the_whole_split(monkeypatch, dtype):
    """Measured by histogram (uint8) or in chunks (floats); torch's mean and std over everything is the oracle."""
    import dataloupe.core.stats.moments as moments
    from dataloupe.core.data.datasets import in_memory_split
    from dataloupe.core.stats.moments import scaled_moments

    monkeypatch.setattr(moments, "MOMENT_CHUNK", 7)  # many chunks, the last one short
    gen = torch.Generator().manual_seed(0)
    if dtype == torch.uint8:
        x = torch.randint(0, 256, (50, 3, 5, 4), dtype=torch.uint8, generator=gen)
        pipeline = Pipeline.for_images(3)
    else:
        x = torch.rand(50, 3, 5, 4, generator=gen) * 16
        pipeline = Pipeline.for_images(3, high=16.0)
    mean, std, note = scaled_moments(in_memory_split(x, np.zeros(50, dtype=np.int64)), pipeline)
    scaled = pipeline.batch(x).to(torch.float64)
    assert mean == pytest.approx(tuple(scaled.mean(dim=(0, 2, 3)).tolist()), abs=1e-12)
    assert std == pytest.approx(tuple(scaled.std(dim=(0, 2, 3)).tolist()), abs=1e-12)
    assert note == ""


def test_datasets_imports_no_reader():
    """Imports go one way: dataloupe.core.readers → the readers → dataloupe.core.data.datasets, never back (issue 11, item 4)."""
    import subprocess
    import sys

    code = "import sys, dataloupe.core.data.datasets; print(sorted(m for m in sys.modules if m.startswith('dataloupe.core.readers')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
