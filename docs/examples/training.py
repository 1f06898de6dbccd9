"""The little training kit the demos share: softmax cross-entropy (also over padded sequences)
and Adam, in plain NumPy.

Everything a training loop needs beyond the model: a loss with its gradient, and an optimizer
that reads ``model.grads`` and writes back through ``model.set_params``. Nothing else is hidden.
"""

import numpy as np


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of ``softmax(logits)`` against integer ``labels``, and its gradient.

    ``logits`` is ``(..., K)``, ``labels`` ``(...)`` with values in ``0..K-1``. Returns
    ``(loss, dlogits)`` with ``dlogits = (softmax(logits) - onehot(labels)) / count``, the
    gradient of the mean.
    """
    z = logits - logits.max(axis=-1, keepdims=True)  # (..., K)  shifted: exp(z) <= 1, no overflow
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))  # (..., K)  log softmax
    onehot = np.eye(logits.shape[-1])[labels]  # (..., K)
    loss = -np.sum(onehot * log_p) / labels.size
    return float(loss), (np.exp(log_p) - onehot) / labels.size


def temporal_softmax_loss(logits, labels, mask):
    """Cross-entropy over a padded batch of sequences, counting only the steps where ``mask``.

    ``logits`` is ``(b, n, K)``, ``labels`` and ``mask`` ``(b, n)``; ``mask[k, t-1]`` is False at
    the padded steps of sequence k, whose labels may hold anything. The loss is the mean over the
    ``M = mask.sum()`` real steps (eq-temporal-loss); returns ``(loss, dlogits)`` with
    ``dlogits = mask * (softmax(logits) - onehot(labels)) / M``, 0 at padded steps.
    """
    mask = np.asarray(mask, dtype=bool)  # (b, n)
    labels = np.where(mask, labels, 0)  # (b, n)  any valid index at padded steps: masked below
    z = logits - logits.max(axis=-1, keepdims=True)  # (b, n, K)  no overflow, as above
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))  # (b, n, K)
    onehot = np.eye(logits.shape[-1])[labels]  # (b, n, K)
    count = mask.sum()
    loss = -np.sum(mask[..., None] * onehot * log_p) / count
    dlogits = np.where(mask[..., None], np.exp(log_p) - onehot, 0.0) / count  # 0 when padded
    return float(loss), dlogits


def accuracy(logits, labels):
    """Fraction of rows whose largest logit is the label."""
    return float(np.mean(logits.argmax(axis=-1) == labels))


class Adam:
    """Adam (Kingma and Ba, ICLR 2015), with optional clipping of the global gradient norm.

    ``step(model)`` applies one update from ``model.grads`` to ``model.get_params()`` and stores
    the result with ``model.set_params``. Clipping guards against the occasional exploding
    gradient of a recurrent network (Pascanu et al., ICML 2013).
    """

    def __init__(self, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, clip=None):
        self.lr, self.beta1, self.beta2, self.eps, self.clip = lr, beta1, beta2, eps, clip
        self.m, self.v, self.t = {}, {}, 0  # first and second moment estimates, step count

    def step(self, model):
        params, grads = model.get_params(), model.grads
        if self.clip is not None:
            norm = np.sqrt(sum(np.sum(g * g) for g in grads.values()))
            grads = {k: g * min(1.0, self.clip / (norm + 1e-12)) for k, g in grads.items()}
        self.t += 1
        for name, g in grads.items():
            self.m[name] = self.beta1 * self.m.get(name, 0.0) + (1 - self.beta1) * g
            self.v[name] = self.beta2 * self.v.get(name, 0.0) + (1 - self.beta2) * g * g
            m_hat = self.m[name] / (1 - self.beta1 ** self.t)  # bias correction: m, v start at 0
            v_hat = self.v[name] / (1 - self.beta2 ** self.t)
            params[name] = params[name] - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        model.set_params(params)
