"""Corrected shares: exactness where the answer is known, the simplex, and edge cases."""

from __future__ import annotations

import numpy as np
import pytest
# scipy.optimize is slow to import: the one test comparing against it imports it.

from pipeline.core.errors import CoverageError
from pipeline.coverage.quantify import adjusted_count, sld, solve_ls, solve_ml


def _slsqp(objective, k: int) -> np.ndarray:
    """The reference solver quapy and mlquantify use (scipy SLSQP on the simplex)."""
    from scipy.optimize import minimize

    result = minimize(objective, np.full(k, 1 / k), method="SLSQP", bounds=[(0, 1)] * k,
                      constraints=({"type": "eq", "fun": lambda x: 1 - x.sum()},),
                      options={"ftol": 1e-14, "maxiter": 1000})
    return result.x


def _random_confusion(rng: np.random.Generator, k: int, j: int) -> np.ndarray:
    c = rng.dirichlet(np.full(j, 0.3), size=k)
    c[np.arange(k), np.arange(k)] += rng.uniform(0.1, 1.5, k)
    return c / c.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("method", ["ml", "ls"])
def test_perfect_classifier_gives_raw_shares_exactly(method):
    counts = np.array([3.0, 0.0, 7.0, 1.0, 0.0])
    out = adjusted_count(counts, np.eye(5), method)
    np.testing.assert_array_equal(out, counts / counts.sum())


def test_known_truth_is_recovered_without_sampling_error():
    c = np.array([[0.8, 0.1, 0.1], [0.2, 0.6, 0.2], [0.1, 0.3, 0.6]])
    pi = np.array([0.5, 0.3, 0.2])
    for method in ("ml", "ls"):
        np.testing.assert_allclose(adjusted_count(pi @ c, c, method), pi, atol=1e-10)


def test_ml_matches_slsqp_on_the_likelihood_and_ls_on_squares():
    rng = np.random.default_rng(3)
    for _ in range(10):
        c = _random_confusion(rng, 8, 8)
        q = rng.multinomial(60, rng.dirichlet(np.full(8, 0.5)) @ c) / 60.0
        loglik = lambda x: -np.sum(np.where(q > 0, q * np.log(np.maximum(x @ c, 1e-300)), 0.0))  # noqa: E731
        squares = lambda x: np.sum((x @ c - q) ** 2)  # noqa: E731
        assert loglik(solve_ml(q, c)) <= loglik(_slsqp(loglik, 8)) + 1e-9
        assert squares(solve_ls(q, c)) <= squares(_slsqp(squares, 8)) + 1e-9


def test_estimates_stay_in_the_simplex_with_zero_counts_and_one_question():
    rng = np.random.default_rng(4)
    c = _random_confusion(rng, 6, 6)
    for counts in (np.array([0, 0, 0, 0, 0, 1.0]), np.array([5, 0, 0, 0, 0, 0.0]), np.array([0, 9, 0, 3, 0, 0.0])):
        for method in ("ml", "ls"):
            out = adjusted_count(counts, c, method)
            assert out.min() >= 0 and out.sum() == pytest.approx(1.0)


def test_singular_confusion_splits_only_what_it_cannot_tell_apart():
    # classes 1 and 2 are predicted identically: only their sum is identified
    c = np.array([[0.9, 0.05, 0.05], [0.1, 0.6, 0.3], [0.1, 0.6, 0.3]])
    pi = np.array([0.5, 0.2, 0.3])
    for method in ("ml", "ls"):
        out = adjusted_count(pi @ c, c, method)
        assert out.min() >= 0 and out.sum() == pytest.approx(1.0)
        assert out[0] == pytest.approx(0.5, abs=1e-8) and out[1] + out[2] == pytest.approx(0.5, abs=1e-8)


def test_rectangular_confusion_with_fewer_true_than_predicted_classes():
    rng = np.random.default_rng(5)
    c = rng.dirichlet(np.ones(6), size=3) + np.eye(3, 6)
    c /= c.sum(axis=1, keepdims=True)
    pi = np.array([0.6, 0.0, 0.4])
    np.testing.assert_allclose(solve_ml(pi @ c, c), pi, atol=1e-8)


def test_a_batch_equals_one_by_one():
    rng = np.random.default_rng(6)
    c = np.stack([_random_confusion(rng, 5, 5) for _ in range(4)])
    q = rng.dirichlet(np.ones(5), size=4)
    batch = solve_ml(q, c)
    for i in range(4):
        np.testing.assert_allclose(batch[i], solve_ml(q[i], c[i]), atol=1e-9)


def test_an_empty_group_is_an_error_that_says_so():
    with pytest.raises(CoverageError, match="no questions"):
        adjusted_count(np.zeros(3), np.eye(3))


def test_sld_recovers_a_shifted_prior_from_calibrated_posteriors():
    rng = np.random.default_rng(7)
    train_prior = np.array([0.5, 0.3, 0.2])
    means = np.array([[2.0, 0, 0], [0, 2.0, 0], [0, 0, 2.0]])
    target = np.array([0.2, 0.3, 0.5])
    labels = rng.choice(3, size=20000, p=target)
    x = means[labels] + rng.normal(size=(20000, 3))
    loglik = -0.5 * ((x[:, None, :] - means[None]) ** 2).sum(-1)
    post = np.exp(loglik) * train_prior
    post /= post.sum(axis=1, keepdims=True)  # posteriors calibrated under the training prior
    np.testing.assert_allclose(sld(post, train_prior), target, atol=0.02)
