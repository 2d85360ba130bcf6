"""The tutorials' MLP and the small CNN: layer sizes, parameter counts, specs that rebuild them."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dataloupe.core.errors import SettingsError
from dataloupe.core.settings import format_hidden, parse_hidden
from dataloupe.core.training.models import MLP, ModelSpec, SmallCNN, parameter_count


def linear_sizes(model: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, nn.Linear)]


def test_the_tutorial_mlp_is_input_64_64_64_classes_with_relu():
    model = ModelSpec("mlp", (64, 64, 64), (1, 28, 28), 10).build()
    assert isinstance(model, MLP)
    assert linear_sizes(model) == [(784, 64), (64, 64), (64, 64), (64, 10)]
    assert sum(isinstance(m, nn.ReLU) for m in model.modules()) == 3  # none after the output layer
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)


@pytest.mark.parametrize(
    "spec",
    [
        ModelSpec("mlp", (64, 64, 64), (1, 28, 28), 10),
        ModelSpec("mlp", (256,), (1, 28, 28), 10),
        ModelSpec("mlp", (), (11,), 2),
        ModelSpec("cnn", (64,), (1, 28, 28), 10),
        ModelSpec("cnn", (32, 16), (3, 32, 32), 100),
        ModelSpec("cnn", (64,), (1, 8, 8), 10),
    ],
    ids=lambda s: s.describe(),
)
def test_parameter_count_by_formula_matches_the_built_network(spec: ModelSpec):
    model = spec.build()
    assert spec.parameter_count() == parameter_count(model)
    assert model(torch.zeros(2, *spec.input_shape)).shape == (2, spec.num_classes)


def test_the_tutorial_mlp_on_mnist_has_59210_parameters_counted_by_hand():
    by_hand = (784 * 64 + 64) + 2 * (64 * 64 + 64) + (64 * 10 + 10)
    assert ModelSpec("mlp", (64, 64, 64), (1, 28, 28), 10).parameter_count() == by_hand == 59_210


def test_wide_and_deep_differ_in_parameters():
    deep = ModelSpec("mlp", (64, 64, 64), (1, 28, 28), 10).parameter_count()
    wide = ModelSpec("mlp", (256,), (1, 28, 28), 10).parameter_count()
    assert wide > 3 * deep


@pytest.mark.parametrize(
    ("text", "sizes"), [("64,64,64", (64, 64, 64)), ("256", (256,)), (" 32, 16 ", (32, 16)), ("", ())]
)
def test_parse_hidden(text: str, sizes: tuple[int, ...]):
    assert parse_hidden(text) == sizes
    assert parse_hidden(format_hidden(sizes)) == sizes


@pytest.mark.parametrize("text", ["64,x", "0", "-3", "64,,64", "1.5", ",".join(["8"] * 9), "100000"])
def test_parse_hidden_refuses_nonsense_with_a_message(text: str):
    with pytest.raises(SettingsError, match="hidden sizes"):
        parse_hidden(text)


def test_the_cnn_refuses_tables_and_tiny_images():
    with pytest.raises(SettingsError, match="needs images"):
        ModelSpec("cnn", (64,), (11,), 2)
    with pytest.raises(SettingsError, match="at least 4×4"):
        ModelSpec("cnn", (64,), (1, 3, 3), 2)
    with pytest.raises(SettingsError, match="mlp or cnn"):
        ModelSpec("transformer", (64,), (1, 8, 8), 2)  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match="at least 2 classes"):
        ModelSpec("mlp", (64,), (4,), 1)


def test_a_spec_survives_plain_values_and_rebuilds_the_same_network():
    spec = ModelSpec("cnn", (32,), (1, 28, 28), 10)
    again = ModelSpec.from_dict(spec.to_dict())
    assert again == spec
    assert all(isinstance(v, (str, int, list)) for v in spec.to_dict().values())
    torch.manual_seed(3)
    first = spec.build()
    torch.manual_seed(3)
    second = again.build()
    assert isinstance(second, SmallCNN)
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_describe_names_the_layers():
    assert ModelSpec("mlp", (64, 64, 64), (1, 28, 28), 10).describe() == "MLP 784→64→64→64→10"
    assert ModelSpec("cnn", (64,), (1, 28, 28), 10).describe().startswith("CNN 1×28×28 → conv16 → conv32")
