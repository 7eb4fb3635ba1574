"""tinygrad_ext.distributions against closed forms (NumPy, float64) and torch.distributions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tinygrad_ext as tgx
from tinygrad_ext.autograd import gradcheck
from tinygrad_ext.distributions import (
    Bernoulli,
    Categorical,
    Distribution,
    Normal,
    Uniform,
    constraints,
    kl_divergence,
    register_kl,
)

F64 = tgx.float64
RNG = np.random.default_rng(0)


def T(a, dtype=F64, requires_grad=False):
    return tgx.tensor(np.asarray(a, dtype=np.float64), dtype=dtype, requires_grad=requires_grad)


def N(t):
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def close(a, b, **kw):
    kw.setdefault("rtol", 1e-10)
    kw.setdefault("atol", 1e-12)
    np.testing.assert_allclose(N(a) if isinstance(a, tgx.Tensor) else a, b, **kw)


def _params():
    loc = RNG.normal(size=(2, 3))
    scale = RNG.uniform(0.3, 2.0, size=(3,))
    return loc, scale


# ---- closed forms ---------------------------------------------------------------------------
def test_normal_closed_forms():
    loc, scale = _params()
    d = Normal(T(loc), T(scale))
    assert d.batch_shape == (2, 3) and d.event_shape == () and d.has_rsample
    x = RNG.normal(size=(4, 2, 3))
    ref = -((x - loc) ** 2) / (2 * scale**2) - np.log(scale) - 0.5 * np.log(2 * np.pi)
    close(d.log_prob(T(x)), ref)
    close(d.entropy(), np.broadcast_to(0.5 + 0.5 * np.log(2 * np.pi) + np.log(scale), (2, 3)))
    close(d.mean, loc)
    close(d.stddev, np.broadcast_to(scale, (2, 3)))
    close(d.variance, np.broadcast_to(scale**2, (2, 3)))
    from math import erf

    cdf = np.vectorize(lambda v, m, s: 0.5 * (1 + erf((v - m) / (s * math.sqrt(2)))))
    close(d.cdf(T(x)), cdf(x, loc, scale), rtol=1e-7)


def test_bernoulli_closed_forms():
    p = RNG.uniform(0.05, 0.95, size=(5,))
    for d in (Bernoulli(probs=T(p)), Bernoulli(logits=T(np.log(p) - np.log1p(-p)))):
        x = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
        close(d.log_prob(T(x)), np.where(x == 1, np.log(p), np.log1p(-p)), rtol=1e-9)
        close(d.entropy(), -(p * np.log(p) + (1 - p) * np.log1p(-p)), rtol=1e-9)
        close(d.mean, p, rtol=1e-12)
        close(d.variance, p * (1 - p), rtol=1e-12)
    assert np.isnan(N(Bernoulli(probs=T([0.5, 0.7])).mode)[0])
    close(Bernoulli(probs=T([0.2, 0.7])).mode, [0.0, 1.0])


def test_categorical_closed_forms():
    logits = RNG.normal(size=(3, 4))
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    for d in (Categorical(logits=T(logits)), Categorical(probs=T(p * 7.0))):  # unnormalised ok
        assert d.batch_shape == (3,) and d.event_shape == ()
        v = np.array([0, 3, 2])
        close(d.log_prob(tgx.tensor(v)), np.log(p[np.arange(3), v]), rtol=1e-9)
        close(d.entropy(), -(p * np.log(p)).sum(-1), rtol=1e-9)
        close(d.probs, p, rtol=1e-9)
        assert d.mode.tolist() == p.argmax(-1).tolist()
        assert np.isnan(N(d.mean)).all() and d.mean.shape == (3,)
    # broadcast of values against the batch
    d = Categorical(logits=T(logits))
    lp = d.log_prob(tgx.tensor([[0], [1]]))
    assert lp.shape == (2, 3)
    close(lp, np.log(p[:, [0, 1]].T), rtol=1e-9)
    # zero probabilities: log_prob is log(eps) (probs are clamped, as torch), entropy finite
    dz = Categorical(probs=T([0.5, 0.0, 0.5]))
    close(dz.log_prob(tgx.tensor(1)), np.log(np.finfo(np.float64).eps))
    assert N(Categorical(logits=T([0.0, -np.inf, 0.0])).log_prob(tgx.tensor(1))) == -np.inf
    close(dz.entropy(), np.log(2.0), rtol=1e-12)


def test_uniform_closed_forms():
    low = RNG.uniform(-2, 0, size=(3,))
    high = low + RNG.uniform(0.5, 3, size=(3,))
    d = Uniform(T(low), T(high))
    x = np.stack([low + 0.25 * (high - low), high, low - 1.0])
    lp = N(Uniform(T(low), T(high), validate_args=False).log_prob(T(x)))
    np.testing.assert_allclose(lp[0], -np.log(high - low), rtol=1e-12)
    assert (lp[1:] == -np.inf).all()  # [low, high): high itself has density 0
    close(d.entropy(), np.log(high - low))
    close(d.mean, (low + high) / 2)
    close(d.variance, (high - low) ** 2 / 12)
    close(d.cdf(T(x[:2])), np.array([[0.25] * 3, [1.0] * 3]))
    close(d.icdf(T([0.25, 0.5, 1.0])), low + np.array([0.25, 0.5, 1.0]) * (high - low))


def test_kl_closed_forms():
    m1, s1, m2, s2 = 0.3, 0.7, -1.1, 1.9
    ref = np.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5
    close(kl_divergence(Normal(T(m1), T(s1)), Normal(T(m2), T(s2))), ref)
    p, q = 0.3, 0.8
    ref = p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))
    close(kl_divergence(Bernoulli(T(p)), Bernoulli(T(q))), ref, rtol=1e-9)
    pa, qa = np.array([0.2, 0.3, 0.5]), np.array([0.4, 0.4, 0.2])
    close(kl_divergence(Categorical(T(pa)), Categorical(T(qa))), (pa * np.log(pa / qa)).sum())
    close(kl_divergence(Uniform(T(0.0), T(1.0)), Uniform(T(-1.0), T(3.0))), np.log(4.0))
    assert N(kl_divergence(Uniform(T(0.0), T(2.0)), Uniform(T(0.5), T(3.0)))) == np.inf
    # KL(U(a, b) || N(m, s)) = -log(b - a) + log(sqrt(2 pi) s) + E[(x - m)^2] / (2 s^2)
    a, b, m, s = -0.5, 1.5, 0.2, 0.8
    ex2 = (b - a) ** 2 / 12 + ((a + b) / 2 - m) ** 2
    ref = -np.log(b - a) + np.log(np.sqrt(2 * np.pi) * s) + ex2 / (2 * s**2)
    close(kl_divergence(Uniform(T(a), T(b)), Normal(T(m), T(s))), ref)
    assert N(kl_divergence(Normal(T(0.0), T(1.0)), Uniform(T(0.0), T(1.0)))) == np.inf
    # KL of a distribution with itself is 0; edge probabilities give 0 / inf like torch
    close(kl_divergence(Normal(T(m1), T(s1)), Normal(T(m1), T(s1))), 0.0)
    kl = N(kl_divergence(Bernoulli(T([0.0, 1.0, 0.5])), Bernoulli(T([0.5, 0.5, 0.0]))))
    np.testing.assert_allclose(kl, [np.log(2), np.log(2), np.inf])


def test_kl_broadcasts_and_registry():
    kl = kl_divergence(Normal(T(np.zeros((2, 1))), T(1.0)), Normal(T(np.zeros(3)), T(2.0)))
    assert kl.shape == (2, 3)
    with pytest.raises(NotImplementedError, match=r"\[kl_divergence\].*Bernoulli.*Normal"):
        kl_divergence(Bernoulli(T(0.5)), Normal(T(0.0), T(1.0)))

    class MyNormal(Normal):
        pass

    # a subclass falls back to its parent's rule, until a more specific one is registered
    close(kl_divergence(MyNormal(T(0.0), T(1.0)), Normal(T(0.0), T(1.0))), 0.0)

    @register_kl(MyNormal, Normal)
    def _kl(p, q):
        return p.loc * 0 + 42.0

    try:
        close(kl_divergence(MyNormal(T(0.0), T(1.0)), Normal(T(0.0), T(1.0))), 42.0)
        close(kl_divergence(Normal(T(0.0), T(1.0)), Normal(T(0.0), T(1.0))), 0.0)
    finally:
        from tinygrad_ext.distributions import kl as klmod

        del klmod._KL_REGISTRY[MyNormal, Normal]
        klmod._KL_MEMOIZE.clear()
    with pytest.raises(TypeError, match="register_kl"):
        register_kl(int, Normal)


# ---- sampling: shapes, moments, reproducibility ------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda: Normal(T(np.zeros((2, 1))), T(np.ones(3))),
        lambda: Uniform(T(np.zeros((2, 1))), T(np.ones(3))),
        lambda: Bernoulli(probs=T(np.full((2, 3), 0.3))),
        lambda: Categorical(logits=T(np.zeros((2, 3, 5)))),
    ],
)
def test_sample_shapes(make):
    d = make()
    assert d.batch_shape == (2, 3)
    assert d.sample().shape == (2, 3)
    assert d.sample((4,)).shape == (4, 2, 3)
    assert d.sample((4, 5)).shape == (4, 5, 2, 3)
    assert d.sample(torch_like_size(7)).shape == (7, 2, 3)
    assert d.sample((0,)).shape == (0, 2, 3)
    assert not d.sample((2,)).requires_grad
    e = d.expand((4, 2, 3))
    assert e.batch_shape == (4, 2, 3) and e.sample((2,)).shape == (2, 4, 2, 3)
    if d.has_rsample:
        assert d.rsample((4,)).shape == (4, 2, 3)
    else:
        with pytest.raises(NotImplementedError, match="rsample"):
            d.rsample()


def torch_like_size(n):
    return [n]  # any iterable of ints works as sample_shape


def test_sample_dtypes_and_reproducibility():
    assert Normal(0.0, 1.0).sample((3,)).dtype == tgx.float32
    assert Normal(T(0.0), 1.0).rsample((3,)).dtype == F64
    assert Categorical(logits=T([0.0, 1.0])).sample((3,)).dtype == tgx.int64
    for d in (Normal(T(0.0), T(1.0)), Uniform(T(0.0), T(1.0)), Bernoulli(T(0.4)),
              Categorical(T([0.2, 0.3, 0.5]))):
        tgx.manual_seed(123)
        a = N(d.sample((50,)))
        tgx.manual_seed(123)
        b = N(d.sample((50,)))
        np.testing.assert_array_equal(a, b)


def test_sample_moments():
    tgx.manual_seed(0)
    n = 40000
    x = N(Normal(T([1.5, -2.0]), T([0.5, 2.0])).rsample((n,)))
    # mean within 5 standard errors, std within 5 standard errors (se ~ s / sqrt(2n))
    np.testing.assert_allclose(x.mean(0), [1.5, -2.0], atol=5 * 2.0 / math.sqrt(n))
    np.testing.assert_allclose(x.std(0), [0.5, 2.0], rtol=5 / math.sqrt(2 * n))
    u = N(Uniform(T(-1.0), T(3.0)).sample((n,)))
    assert u.min() >= -1.0 and u.max() < 3.0
    assert abs(u.mean() - 1.0) < 5 * (4 / math.sqrt(12)) / math.sqrt(n)
    assert abs(u.var() - 16 / 12) < 0.05
    b = N(Bernoulli(T([0.1, 0.5, 0.9])).sample((n,)))
    assert set(np.unique(b)) <= {0.0, 1.0}
    np.testing.assert_allclose(b.mean(0), [0.1, 0.5, 0.9], atol=5 * 0.5 / math.sqrt(n))
    p = np.array([0.1, 0.0, 0.2, 0.7])
    c = N(Categorical(T(p)).sample((n,))).astype(np.int64)
    freq = np.bincount(c, minlength=4) / n
    assert freq[1] == 0.0  # a zero-probability class is never drawn
    # chi-square goodness of fit over the 3 classes with mass (df = 2, 99.99% quantile ~ 18.4)
    nz = p > 0
    chi2 = (((freq[nz] - p[nz]) * n) ** 2 / (p[nz] * n)).sum()
    assert chi2 < 18.4


# ---- gradients -----------------------------------------------------------------------------
def test_rsample_gradients_gradcheck():
    loc, scale = T(RNG.normal(size=3), requires_grad=True), T([0.5, 1.0, 2.0], requires_grad=True)

    def normal_rsample(loc, scale):
        tgx.manual_seed(7)
        return Normal(loc, scale).rsample((4,))

    assert gradcheck(normal_rsample, (loc, scale))
    low, high = T([-1.0, 0.0], requires_grad=True), T([1.0, 3.0], requires_grad=True)

    def uniform_rsample(low, high):
        tgx.manual_seed(7)
        return Uniform(low, high).rsample((3,))

    assert gradcheck(uniform_rsample, (low, high))


def test_rsample_gradient_values():
    loc, scale = T([0.5, -1.0], requires_grad=True), T([2.0, 0.5], requires_grad=True)
    tgx.manual_seed(3)
    z = Normal(loc, scale).rsample((5,))
    tgx.manual_seed(3)
    eps = N(tgx.randn((5, 2), dtype=F64))
    close(z, N(loc) + eps * N(scale))
    z.sum().backward()
    close(loc.grad, [5.0, 5.0])
    close(scale.grad, eps.sum(0))


def test_log_prob_entropy_kl_gradcheck():
    loc, scale = T([0.3, -0.2], requires_grad=True), T([0.8, 1.7], requires_grad=True)
    x = T([0.1, 1.0])
    assert gradcheck(lambda m, s: Normal(m, s).log_prob(x), (loc, scale))
    assert gradcheck(lambda m, s: Normal(m, s).entropy(), (loc, scale))
    assert gradcheck(lambda m, s: kl_divergence(Normal(m, s), Normal(0.0, 1.0)), (loc, scale))
    logits = T([[0.1, -0.4, 1.2], [0.0, 0.3, -0.5]], requires_grad=True)
    other = T([[0.3, 0.3, 0.4], [0.1, 0.6, 0.3]])
    assert gradcheck(lambda lg: Categorical(logits=lg).entropy(), (logits,))
    assert gradcheck(lambda lg: kl_divergence(Categorical(logits=lg), Categorical(other)), (logits,))
    assert gradcheck(lambda lg: Categorical(logits=lg).log_prob(tgx.tensor([2, 0])), (logits,))
    bl = T([0.3, -1.2], requires_grad=True)
    assert gradcheck(lambda lg: Bernoulli(logits=lg).log_prob(T([1.0, 0.0])), (bl,))
    assert gradcheck(lambda lg: kl_divergence(Bernoulli(logits=lg), Bernoulli(T(0.4))), (bl,))


# ---- validation ----------------------------------------------------------------------------
def test_validation_errors():
    with pytest.raises(ValueError, match=r"\[Normal\].*scale.*GreaterThan"):
        Normal(T([0.0, 0.0]), T([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"\[Normal\].*scale"):
        Normal(0.0, 0.0)
    with pytest.raises(ValueError, match=r"\[Normal\].*loc"):
        Normal(float("nan"), 1.0)
    Normal(0.0, -1.0, validate_args=False)  # no check when disabled
    with pytest.raises(ValueError, match=r"\[Bernoulli\].*probs"):
        Bernoulli(probs=T([0.5, 1.5]))
    with pytest.raises(ValueError, match=r"\[Bernoulli\] Either `probs` or `logits`"):
        Bernoulli(probs=T(0.5), logits=T(0.0))
    with pytest.raises(ValueError, match=r"\[Categorical\] Either `probs` or `logits`"):
        Categorical()
    with pytest.raises(ValueError, match=r"\[Categorical\].*probs"):
        Categorical(probs=T([0.5, -0.1, 0.6]))
    with pytest.raises(ValueError, match=r"\[Categorical\].*one-dimensional"):
        Categorical(probs=T(0.5))
    with pytest.raises(ValueError, match=r"\[Uniform\].*low >= high"):
        Uniform(T([0.0, 1.0]), T([1.0, 1.0]))
    with pytest.raises(ValueError, match=r"\[Normal\].*broadcast"):
        Normal(T([0.0, 1.0]), T([1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"\[Normal\]"):
        Normal("a", 1.0)


def test_log_prob_validates_values():
    with pytest.raises(ValueError, match=r"\[Bernoulli\].*support"):
        Bernoulli(T(0.3)).log_prob(T(0.5))
    with pytest.raises(ValueError, match=r"\[Categorical\].*support"):
        Categorical(T([0.5, 0.5])).log_prob(tgx.tensor(2))
    with pytest.raises(ValueError, match=r"\[Uniform\].*support"):
        Uniform(T(0.0), T(1.0)).log_prob(T(2.0))
    with pytest.raises(ValueError, match=r"\[Normal\].*must be a Tensor"):
        Normal(T(0.0), T(1.0)).log_prob(0.5)
    with pytest.raises(ValueError, match=r"\[Normal\].*broadcastable"):
        Normal(T([0.0, 0.0]), T(1.0)).log_prob(T([0.0, 0.0, 0.0]))
    # validation off: the formula is evaluated as is
    d = Uniform(T(0.0), T(1.0), validate_args=False)
    assert N(d.log_prob(T(2.0))) == -np.inf


def test_base_class_and_constraints():
    d = Distribution(batch_shape=(2,))
    with pytest.raises(NotImplementedError):
        d.log_prob(T(0.0))
    with pytest.raises(NotImplementedError):
        d.sample()
    with pytest.raises(NotImplementedError):
        d.entropy()
    assert constraints.positive.check(T([1.0, -1.0])).tolist() == [True, False]
    assert constraints.simplex.check(T([0.3, 0.7])).item()
    assert repr(Normal(0.0, 1.0)).startswith("Normal(")
    assert Uniform(0.0, 1.0).support.check(T(0.5)).item()


# ---- torch oracle --------------------------------------------------------------------------
def test_against_torch():
    torch = pytest.importorskip("torch")
    td = torch.distributions
    tt = lambda a: torch.tensor(np.asarray(a, dtype=np.float64))  # noqa: E731
    loc, scale = _params()
    x = RNG.normal(size=(4, 2, 3))
    pairs = [
        (Normal(T(loc), T(scale)), td.Normal(tt(loc), tt(scale)), x),
        (Uniform(T(loc), T(loc + scale)), td.Uniform(tt(loc), tt(loc + scale)), loc + 0.5 * scale),
    ]
    p = RNG.uniform(0.05, 0.95, size=(2, 3))
    pairs.append((Bernoulli(T(p)), td.Bernoulli(tt(p)), (x > 0).astype(np.float64)))
    lg = RNG.normal(size=(2, 3, 4))
    v = RNG.integers(0, 4, size=(5, 2, 3))
    pairs.append((Categorical(logits=T(lg)), td.Categorical(logits=tt(lg)), v))
    for ours, theirs, val in pairs:
        assert ours.batch_shape == tuple(theirs.batch_shape)
        ov = tgx.tensor(val) if val.dtype.kind == "i" else T(val)
        close(ours.log_prob(ov), theirs.log_prob(torch.tensor(val)).numpy(), rtol=1e-9)
        close(ours.entropy(), theirs.entropy().numpy(), rtol=1e-9)
        if not isinstance(ours, Categorical):
            close(ours.mean, theirs.mean.numpy(), rtol=1e-12)
            close(ours.variance, theirs.variance.numpy(), rtol=1e-9)
    q = [Normal(T(-loc), T(2 * scale)), Uniform(T(loc - 1), T(loc + 3)), Bernoulli(T(1 - p)),
         Categorical(logits=T(-lg))]
    tq = [td.Normal(tt(-loc), tt(2 * scale)), td.Uniform(tt(loc - 1), tt(loc + 3)),
          td.Bernoulli(tt(1 - p)), td.Categorical(logits=tt(-lg))]
    for (ours, theirs, _), oq, tq_ in zip(pairs, q, tq):
        close(kl_divergence(ours, oq), td.kl_divergence(theirs, tq_).numpy(), rtol=1e-9)
    close(kl_divergence(pairs[1][0], q[0]), td.kl_divergence(pairs[1][1], tq[0]).numpy(),
          rtol=1e-9)


def test_noncontiguous_and_0d_parameters():
    loc = RNG.normal(size=(3, 2))
    scale = RNG.uniform(0.5, 1.5, size=(2, 3))
    lt, st = T(loc).t(), T(scale).flip(-1)  # a transposed and a flipped (negative-stride) view
    d = Normal(lt, st)
    x = RNG.normal(size=(2, 3))
    m, s = loc.T, scale[:, ::-1]
    close(d.log_prob(T(x)), -((x - m) ** 2) / (2 * s**2) - np.log(s) - 0.5 * np.log(2 * np.pi))
    lg = T(RNG.normal(size=(4, 2))).t()  # batch (2,), 4 classes, non-contiguous
    p = np.exp(N(lg)) / np.exp(N(lg)).sum(-1, keepdims=True)
    close(Categorical(logits=lg).entropy(), -(p * np.log(p)).sum(-1), rtol=1e-9)
    d0 = Normal(T(0.0), T(1.0))
    assert d0.batch_shape == () and d0.sample().shape == () and d0.log_prob(T(0.0)).shape == ()
