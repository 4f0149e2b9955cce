"""The fused elementwise steps of the imaging loops (litho.optics.fused) against the numpy
expressions they replace: same bits for the squared magnitude, the complex product to rounding,
and no dependence on the number of threads or on where a value sits in the array."""

import numexpr
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from litho.optics import fused


def _complex(rng, shape, dtype=np.complex128):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


@settings(max_examples=30, deadline=None)
@given(ny=st.integers(1, 70), nx=st.integers(1, 70), seed=st.integers(0, 2**31 - 1))
def test_the_squared_magnitude_is_added_bit_for_bit_as_numpy_adds_it(ny, nx, seed):
    rng = np.random.default_rng(seed)
    field, sums = _complex(rng, (ny, nx)), rng.random((ny, nx))
    expected = sums.copy()
    expected += field.real ** 2
    expected += field.imag ** 2
    fused.add_squared_magnitude(sums, field)
    assert np.array_equal(sums, expected)


def test_single_precision_fields_take_the_numpy_route_and_sum_in_double():
    rng = np.random.default_rng(0)
    field, sums = _complex(rng, (33, 17), np.complex64), np.zeros((33, 17))
    fused.add_squared_magnitude(sums, field)
    v = field.view(np.float32).reshape(33, 17, 2)
    assert sums.dtype == np.float64
    assert np.array_equal(sums, (v * v)[..., 0].astype(np.float64) + (v * v)[..., 1])


def test_a_strided_view_is_read_where_it_lies():
    rng = np.random.default_rng(1)
    whole = _complex(rng, (40, 60))
    view = whole[3:31, 5:50:3]
    sums = np.zeros(view.shape)
    fused.add_squared_magnitude(sums, view)
    assert np.array_equal(sums, view.real ** 2 + view.imag ** 2)


def test_the_product_is_numpy_s_to_rounding_and_writes_into_its_first_operand():
    rng = np.random.default_rng(2)
    a, b = _complex(rng, (64, 48)), _complex(rng, (64, 48))
    expected = a * b
    fused.multiply(a, b, out=a)
    assert np.allclose(a, expected, rtol=4e-16 * 4, atol=0)


def test_an_equal_value_gives_equal_bits_wherever_it_sits():
    # mirrored directions and identical tiles rely on equal inputs giving equal outputs
    rng = np.random.default_rng(3)
    a0, b0 = _complex(rng, 50), _complex(rng, 50)
    n = 100_003
    a, b = np.resize(a0, n), np.resize(b0, n)
    out, sums = np.empty_like(a), np.zeros(n)
    fused.multiply(a, b, out=out)
    fused.add_squared_magnitude(sums, a)
    rows = n // 50
    assert (out[:rows * 50].reshape(rows, 50) == out[:50]).all()
    assert (sums[:rows * 50].reshape(rows, 50) == sums[:50]).all()


@pytest.mark.parametrize("threads", [1, 2])
def test_the_result_does_not_depend_on_the_number_of_threads(threads):
    rng = np.random.default_rng(4)
    a, b = _complex(rng, (300, 301)), _complex(rng, (300, 301))
    reference_out, reference_sums = np.empty_like(a), np.zeros(a.shape)
    fused.multiply(a, b, out=reference_out)
    fused.add_squared_magnitude(reference_sums, a)
    before = numexpr.set_num_threads(threads)
    try:
        out, sums = np.empty_like(a), np.zeros(a.shape)
        fused.multiply(a, b, out=out)
        fused.add_squared_magnitude(sums, a)
    finally:
        numexpr.set_num_threads(before)
    assert out.tobytes() == reference_out.tobytes()
    assert sums.tobytes() == reference_sums.tobytes()
