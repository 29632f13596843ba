"""Corrected class shares of a group from its predicted labels: adjusted classify-and-count.

Model: a question of true class k gets predicted class j with probability C[k, j], the same in
the gold sample and in the group (prior-probability shift). The group's predicted distribution is
then q = pi @ C, and the corrected shares pi are found inside the simplex (pi >= 0, sum 1):

- `solve_ml` (default): maximum likelihood of the group's predicted counts under that model,
  solved by projected Newton with an active set (the likelihood is concave in pi). It stays in
  the simplex, copes with a singular or rectangular C (the likelihood is just flat along what the
  data cannot tell apart), and weights each predicted class by how much evidence it carries, which
  least squares does not. (EM reaches the same optimum but crawls on flat likelihoods.)
- `solve_ls`: constrained least squares, min ||pi @ C - q||^2 on the simplex, the usual
  "ACC inside the simplex" (quapy's `solver='minimize'`), by accelerated projected gradient.

Both are batched: q of shape (..., J) and C of shape (..., K, J) solve many bootstrap
replicates in one call, which is what makes thousands of replicates per group affordable
(figures in the README).
Where C^T pi = q has a solution inside the simplex (square, invertible C) it is the answer of both
methods and is returned directly; a perfect classifier (C = identity) returns q itself, bit for bit.

Probabilistic versions (PACC) use the same solvers with q = the group's mean probability vector and
C = mean probability vector per true class (`confusion.weighted_rows` on probability gold).
`sld` is the EM of Saerens, Latinne and Decaestecker (EMQ), which re-weights calibrated
posteriors instead of inverting a confusion matrix.
"""

from __future__ import annotations

import numpy as np

from pipeline.core.errors import CoverageError

_TINY = 1e-300


def _normalise(q: np.ndarray) -> np.ndarray:
    total = q.sum(axis=-1, keepdims=True)
    if np.any(total <= 0):
        raise CoverageError("a group has no questions: nothing to correct")
    return q / total


def _inversion(q: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solutions of C^T pi = q where C is square and invertible, and where they are feasible."""
    batch = np.broadcast_shapes(q.shape[:-1], c.shape[:-2])
    k = c.shape[-2]
    pi = np.full(batch + (k,), np.nan)
    if c.shape[-1] != k:
        return pi, np.zeros(batch, dtype=bool)
    ct = np.broadcast_to(np.swapaxes(c, -1, -2), batch + (k, k))
    qb = np.broadcast_to(q, batch + (k,))
    cond = np.linalg.cond(ct)
    ok = np.isfinite(cond) & (cond < 1e10)
    if np.any(ok):
        pi[ok] = np.linalg.solve(ct[ok], qb[ok][..., None])[..., 0]
    feasible = ok & np.all(pi >= -1e-12, axis=-1)
    return pi, feasible


def _mix(pi: np.ndarray, c: np.ndarray) -> np.ndarray:
    """(B, J) predicted distribution pi @ C per replicate (batched matmul: far faster than einsum)."""
    return np.matmul(pi[:, None, :], c)[:, 0, :]


def _loglik(pi: np.ndarray, q: np.ndarray, c: np.ndarray) -> np.ndarray:
    r = _mix(pi, c)
    return np.sum(np.where(q > 0, q * np.log(np.maximum(r, _TINY)), 0.0), axis=-1)


def _line_search(pi: np.ndarray, d: np.ndarray, grad: np.ndarray, q: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Next point along Newton direction d, and the coordinates that became 0 there.

    Two candidates: the full step with negative coordinates clipped to 0 (a projected arc, which
    lets several coordinates leave at once), and the step cut where the first coordinate reaches 0
    then backtracked (Armijo), which always makes progress. The better one is kept.
    """
    base, slope = _loglik(pi, q, c), (grad * d).sum(-1)
    raw = pi + d
    arc = np.maximum(raw, 0.0)
    arc /= arc.sum(-1, keepdims=True)
    neg = d < 0
    t_max = np.min(np.where(neg, pi / np.where(neg, -d, 1.0), np.inf), axis=-1)
    t = np.minimum(1.0, t_max)
    for _halving in range(40):
        short = _loglik(np.maximum(pi + t[:, None] * d, 0.0), q, c) < base + 1e-4 * t * slope - 1e-15
        if not short.any():
            break
        t = np.where(short, t / 2, t)
    cut_hit = neg & (t == t_max)[:, None] & (np.abs(pi + t[:, None] * d) <= 1e-15 + 1e-12 * pi)
    cut = np.where(cut_hit, 0.0, np.maximum(pi + t[:, None] * d, 0.0))
    cut /= cut.sum(-1, keepdims=True)
    use_arc = (_loglik(arc, q, c) > _loglik(cut, q, c))[:, None]
    return np.where(use_arc, arc, cut), np.where(use_arc, raw <= 0, cut_hit)


def _newton_step(pi: np.ndarray, free: np.ndarray, q: np.ndarray, c: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One projected Newton step on the free coordinates; returns (pi, free, size of the step)."""
    k = pi.shape[1]
    r = _mix(pi, c)
    ratio = np.where(q > 0, q / np.maximum(r, _TINY), 0.0)
    grad = np.matmul(c, ratio[:, :, None])[:, :, 0]
    wt = np.where(q > 0, q / np.maximum(r * r, _TINY), 0.0)
    hess = np.matmul(c * wt[:, None, :], np.swapaxes(c, 1, 2))  # minus the Hessian: positive semi-definite
    scale = np.maximum(np.trace(hess, axis1=1, axis2=2) / k, _TINY)[:, None, None]
    both = free[:, :, None] & free[:, None, :]
    # a tiny ridge keeps flat (unidentifiable) directions solvable; fixed coordinates get d = 0
    m = np.where(both, hess, 0.0) + np.eye(k) * np.where(free, 1e-10, 1.0)[:, None, :] * scale
    ones = free.astype(float)
    sol = np.linalg.solve(m, np.stack([np.where(free, grad, 0.0), ones], axis=-1))
    lam = (ones * sol[..., 0]).sum(-1) / np.maximum((ones * sol[..., 1]).sum(-1), _TINY)
    d = np.where(free, sol[..., 0] - lam[:, None] * sol[..., 1], 0.0)
    new, hit = _line_search(pi, d, grad, q, c)
    free = free & ~hit
    step = np.max(np.abs(new - pi), axis=-1)
    # KKT: a coordinate held at 0 whose gradient exceeds the multiplier (1) should grow; free the
    # worst one, but only once the free problem has (nearly) settled, so the active set cannot cycle
    release = (~free) & (grad > 1.0 + 1e-9) & (step < 1e-6)[:, None]
    freed = release.any(-1)
    rows = np.flatnonzero(freed)
    free[rows, np.argmax(np.where(release, grad, -np.inf), axis=-1)[rows]] = True
    return new, free, np.where(freed, np.inf, step)


def _newton(pi: np.ndarray, q: np.ndarray, c: np.ndarray, tol: float, max_iter: int) -> np.ndarray:
    """Projected Newton with an active set, for max sum_j q_j log (pi @ C)_j on the simplex.

    EM alone crawls where the likelihood is nearly flat (rare classes, similar rows of C) and
    stops far from the optimum when it is cut short. Newton on the free coordinates, with
    sum pi = 1 kept by a Lagrange multiplier, converges in a few steps once the active set is
    right. A coordinate that reaches 0 is fixed there and freed again when the KKT condition says
    it should grow. Rows that have converged drop out of the batch.
    """
    pi = pi.copy()
    free = pi > 0
    active = np.arange(pi.shape[0])
    for _ in range(max_iter):
        new, fr, step = _newton_step(pi[active], free[active], q[active], c[active], tol)
        pi[active], free[active] = new, fr
        active = active[step >= tol]
        if active.size == 0:
            break
    return pi


def _batch(q: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    q = np.asarray(q, dtype=float)
    c = np.asarray(c, dtype=float)
    if q.shape[-1] != c.shape[-1]:
        raise CoverageError(f"{q.shape[-1]} predicted classes in the group but {c.shape[-1]} in the confusion matrix")
    batch = np.broadcast_shapes(q.shape[:-1], c.shape[:-2])
    k, j = c.shape[-2:]
    qb = np.broadcast_to(_normalise(q), batch + (j,)).reshape(-1, j)
    cb = np.broadcast_to(c, batch + (k, j)).reshape(-1, k, j)
    return qb, cb, batch


def _identity_rows(c: np.ndarray) -> np.ndarray:
    k, j = c.shape[-2:]
    if k != j:
        return np.zeros(c.shape[0], dtype=bool)
    return np.all(c == np.eye(k), axis=(-2, -1))


def solve_ml(q: np.ndarray, c: np.ndarray, *, init: np.ndarray | None = None, tol: float = 1e-12, max_iter: int = 200) -> np.ndarray:
    """Maximum-likelihood shares pi (..., K) of predicted counts or shares q (..., J) given C (..., K, J).

    `init` (K,), e.g. the point estimate when solving bootstrap replicates, starts Newton near
    where the replicates end and with the point estimate's zeros already fixed.
    """
    qb, cb, batch = _batch(q, c)
    k = cb.shape[-2]
    # A predicted class no true class can produce carries no information about pi; keeping it
    # would make every likelihood -inf. Happens only with an unsmoothed C from a tiny gold set.
    reachable = cb.sum(axis=-2) > 0
    qb = _normalise(np.where(reachable, qb, 0.0) + np.where(reachable.any(-1, keepdims=True), 0.0, 1.0))
    out = np.empty((qb.shape[0], k))
    ident = _identity_rows(cb)
    if ident.any():
        out[ident] = qb[ident]
    inv, feasible = _inversion(qb, cb)
    done = ident | feasible
    out[feasible & ~ident] = np.maximum(inv[feasible & ~ident], 0.0)
    rest = np.flatnonzero(~done)
    if rest.size:
        if init is None:
            start = np.where(np.isfinite(inv[rest]), np.maximum(inv[rest], 0.0), 0.0)
            start = start / np.maximum(start.sum(-1, keepdims=True), _TINY)
            start = np.where(start.sum(-1, keepdims=True) > 0, start, 1.0 / k)
        else:
            start = np.broadcast_to(np.asarray(init, dtype=float), (rest.size, k)).copy()
            start = start / start.sum(-1, keepdims=True)
        out[rest] = _newton(start, qb[rest], cb[rest], tol, max_iter)
    out[~ident] /= out[~ident].sum(-1, keepdims=True)
    return out.reshape(batch + (k,))


def _project_simplex(x: np.ndarray) -> np.ndarray:
    """Euclidean projection of each row onto the probability simplex (Duchi et al. 2008)."""
    k = x.shape[-1]
    u = -np.sort(-x, axis=-1)
    css = np.cumsum(u, axis=-1) - 1.0
    idx = np.arange(1, k + 1)
    cond = u - css / idx > 0
    rho = k - 1 - np.argmax(cond[..., ::-1], axis=-1)
    theta = np.take_along_axis(css, rho[..., None], axis=-1) / (rho[..., None] + 1)
    return np.maximum(x - theta, 0.0)


def solve_ls(q: np.ndarray, c: np.ndarray, *, tol: float = 1e-12, max_iter: int = 20000) -> np.ndarray:
    """Least-squares shares: min ||pi @ C - q||^2 over the simplex (FISTA with restarts)."""
    qb, cb, batch = _batch(q, c)
    k = cb.shape[-2]
    out = np.empty((qb.shape[0], k))
    ident = _identity_rows(cb)
    if ident.any():
        out[ident] = qb[ident]
    inv, feasible = _inversion(qb, cb)
    out[feasible & ~ident] = np.maximum(inv[feasible & ~ident], 0.0)
    rest = np.flatnonzero(~(ident | feasible))
    if rest.size:
        gram = np.einsum("bkj,blj->bkl", cb[rest], cb[rest])
        lin = np.einsum("bkj,bj->bk", cb[rest], qb[rest])
        step = 1.0 / np.maximum(np.linalg.eigvalsh(gram)[:, -1], _TINY)
        x = np.full((rest.size, k), 1.0 / k)
        y, t = x.copy(), np.ones(rest.size)
        for _ in range(max_iter):
            grad = np.einsum("bkl,bl->bk", gram, y) - lin
            new = _project_simplex(y - step[:, None] * grad)
            t_new = (1 + np.sqrt(1 + 4 * t * t)) / 2
            y = new + ((t - 1) / t_new)[:, None] * (new - x)
            restart = np.einsum("bk,bk->b", new - x, y - new) > 0  # O'Donoghue-Candes adaptive restart
            t = np.where(restart, 1.0, t_new)
            y[restart] = new[restart]
            change = np.max(np.abs(new - x), axis=-1)
            x = new
            if np.all(change < tol):
                break
        out[rest] = x
    return out.reshape(batch + (k,))


def adjusted_count(counts: np.ndarray, confusion: np.ndarray, method: str = "ml") -> np.ndarray:
    """Corrected shares of one group (or a batch) from predicted counts, by `ml` or `ls`."""
    solvers = {"ml": solve_ml, "ls": solve_ls}
    if method not in solvers:
        raise CoverageError(f"unknown method {method!r}; use one of {sorted(solvers)}")
    return solvers[method](np.asarray(counts, dtype=float), np.asarray(confusion, dtype=float))


def sld(probs: np.ndarray, train_prior: np.ndarray, *, tol: float = 1e-10, max_iter: int = 10000) -> np.ndarray:
    """EMQ / SLD: shares of a group from posteriors calibrated under `train_prior` (same classes)."""
    probs = np.asarray(probs, dtype=float)
    prior = np.asarray(train_prior, dtype=float)
    if probs.ndim != 2 or probs.shape[1] != prior.shape[0]:
        raise CoverageError("sld needs (N, K) posteriors over the classes of the training prior")
    pi = prior.copy()
    for _ in range(max_iter):
        post = probs * (pi / np.maximum(prior, _TINY))
        post /= np.maximum(post.sum(axis=1, keepdims=True), _TINY)
        new = post.mean(axis=0)
        if np.max(np.abs(new - pi)) < tol:
            return new
        pi = new
    return pi
