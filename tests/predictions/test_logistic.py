"""The logistic regression and the scores, against fixtures small enough to compute by hand."""

from __future__ import annotations

import math

import pytest

from server.predictions import logistic


def test_intercept_only_fits_the_base_rate():
    model = logistic.fit([], [[], [], [], []], [1, 0, 0, 0], l2=0.0)
    assert model.predict([]) == pytest.approx(0.25)
    assert model.weights[0] == pytest.approx(math.log(1 / 3))


def test_one_binary_feature_fits_each_groups_rate_and_reads_back_on_its_own_scale():
    # x = 0: one reply in four; x = 1: three in four. Unpenalised, the fit is exact:
    # intercept logit(1/4) = -ln 3, slope logit(3/4) - logit(1/4) = 2 ln 3.
    xs = [[0.0]] * 4 + [[1.0]] * 4
    ys = [1, 0, 0, 0, 1, 1, 1, 0]
    model = logistic.fit(["x"], xs, ys, l2=0.0)
    assert model.predict([0.0]) == pytest.approx(0.25, abs=1e-9)
    assert model.predict([1.0]) == pytest.approx(0.75, abs=1e-9)
    coefficients = model.coefficients()
    assert coefficients["intercept"] == pytest.approx(-math.log(3), abs=1e-9)
    assert coefficients["x"] == pytest.approx(2 * math.log(3), abs=1e-9)
    again = logistic.Logistic.from_dict(model.to_dict())
    assert again.predict([1.0]) == pytest.approx(0.75, abs=1e-9)


def test_the_penalty_pulls_the_slope_toward_zero():
    xs = [[0.0]] * 4 + [[1.0]] * 4
    ys = [1, 0, 0, 0, 1, 1, 1, 0]
    free = logistic.fit(["x"], xs, ys, l2=0.0).coefficients()["x"]
    held = logistic.fit(["x"], xs, ys, l2=5.0).coefficients()["x"]
    assert 0 < held < free


def test_a_constant_column_is_left_alone():
    model = logistic.fit(["c"], [[3.0], [3.0], [3.0], [3.0]], [1, 1, 0, 0], l2=1.0)
    assert model.predict([3.0]) == pytest.approx(0.5)


def test_solve_a_small_system():
    # 2x + y = 5, x + 3y = 10 -> x = 1, y = 3; the zero pivot needs the row swap.
    assert logistic.solve([[0.0, 1.0], [1.0, 0.0]], [2.0, 3.0]) == pytest.approx([3.0, 2.0])
    assert logistic.solve([[2.0, 1.0], [1.0, 3.0]], [5.0, 10.0]) == pytest.approx([1.0, 3.0])


def test_sigmoid_and_logit():
    assert logistic.sigmoid(0) == 0.5
    assert logistic.sigmoid(-800) == pytest.approx(0.0) and logistic.sigmoid(800) == 1.0
    assert logistic.logit(0.75) == pytest.approx(math.log(3))


def test_log_loss_brier_and_calibration_by_hand():
    ps, ys = [0.8, 0.4], [1, 0]
    assert logistic.log_loss(ps, ys) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)
    assert logistic.brier(ps, ys) == pytest.approx((0.2**2 + 0.4**2) / 2)
    bins = logistic.calibration([0.05, 0.15, 0.12, 0.95], [0, 1, 0, 1])
    assert bins == [
        {"low": 0.0, "high": 0.1, "n": 1, "predicted": 0.05, "observed": 0.0},
        {"low": 0.1, "high": 0.2, "n": 2, "predicted": pytest.approx(0.135), "observed": 0.5},
        {"low": 0.9, "high": 1.0, "n": 1, "predicted": 0.95, "observed": 1.0},
    ]
