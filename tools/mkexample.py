#!/usr/bin/python3
"""Writes the example model kerascope ships (examples/), with numpy and h5py only.

An MLP 4 -> Dense(16, relu) -> Dense(3, softmax) is trained on Fisher's Iris
data (examples/iris.csv, the UCI copy, public domain) by full-batch Adam on the
categorical cross-entropy, in plain numpy, deterministically (fixed seed). The
results are written in the layouts real Keras writes (see
../shared/fixtures/conformance/README.md):

  iris_mlp.h5            legacy full model, tf.keras 2.10 layout (model.save("x.h5")),
                         with training_config and the Adam optimizer_weights
  iris_mlp_untrained.h5  the same model as compiled, before training (no optimizer state)
  iris_mlp_weights.h5    the trained weights alone, as model.save_weights("x.h5") writes them
                         (tf.keras 2.10: layer_names at the root, no architecture)
  iris_mlp.keras         Keras 3 archive (3.4.1 layout): metadata.json, config.json,
                         model.weights.h5, all STORED
  iris_sample.npy/.csv   six rows of the data (two per class), float32
  iris_sample_expected.npy  the trained model's softmax output for them (float64 numpy pass)
  iris_labels.txt        the class names, in output order
  iris_mlp_reordered.h5  the trained model re-exported with its classes in another order
                         (REORDER: output column k holds class REORDER[k]), as happens
                         when the label list is rebuilt with list(set(labels)); its
                         optimizer slots are permuted with the weights
  iris_x.npy, iris_y_onehot.npy  the whole data set as arrays: features (150, 4) float32,
                         one-hot labels (150, 3) float32
  iris_train_metrics.json  what training reports for the saved (float32) weights on the
                         whole data set, as model.evaluate would: samples, correct,
                         accuracy, categorical cross-entropy (tests check `kerascope
                         evaluate` against it)

Usage: tools/mkexample.py [OUTDIR]   (default: the examples/ folder next to tools/)
"""
import io
import json
import os
import sys
import zipfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "examples")
LABELS = ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
HIDDEN = 16
EPOCHS = 600
LR = 0.01
B1, B2, EPS = 0.9, 0.999, 1e-7
SEED = 20260101
SAMPLE_ROWS = [0, 25, 50, 75, 100, 125]
KERAS2 = "2.10.0"
KERAS3 = "3.4.1"
REORDER = [2, 0, 1]
DATE_SAVED = "2026-01-01@12:00:00"


def load_iris():
    xs, ys = [], []
    with open(os.path.join(SRC, "iris.csv")) as f:
        header = f.readline()
        assert header.startswith("sepal_length"), header
        for line in f:
            if not line.strip():
                continue
            *feat, label = line.strip().split(",")
            xs.append([float(v) for v in feat])
            ys.append(LABELS.index(label))
    x = np.array(xs, dtype=np.float32)
    y = np.array(ys)
    assert x.shape == (150, 4) and np.bincount(y).tolist() == [50, 50, 50]
    return x, y


def glorot(rng, fan_in, fan_out):
    lim = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-lim, lim, size=(fan_in, fan_out)).astype(np.float32)


def forward(params, x):
    w1, b1, w2, b2 = (p.astype(np.float64) for p in params)
    h = np.maximum(x.astype(np.float64) @ w1 + b1, 0.0)
    z = h @ w2 + b2
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return h, e / e.sum(axis=1, keepdims=True)


def train(x, y, params):
    """Full-batch Adam, as Keras' Adam (epsilon outside the sqrt, bias-corrected lr)."""
    t = np.eye(3)[y]
    m = [np.zeros_like(p, dtype=np.float64) for p in params]
    v = [np.zeros_like(p, dtype=np.float64) for p in params]
    p64 = [p.astype(np.float64) for p in params]
    n = len(x)
    for it in range(1, EPOCHS + 1):
        h, prob = forward(p64, x)
        dz = (prob - t) / n
        dh = (dz @ p64[2].T) * (h > 0)
        grads = [x.T.astype(np.float64) @ dh, dh.sum(0), h.T @ dz, dz.sum(0)]
        lr_t = LR * np.sqrt(1 - B2 ** it) / (1 - B1 ** it)
        for i, g in enumerate(grads):
            m[i] = B1 * m[i] + (1 - B1) * g
            v[i] = B2 * v[i] + (1 - B2) * g * g
            p64[i] -= lr_t * m[i] / (np.sqrt(v[i]) + EPS)
    _, prob = forward(p64, x)
    loss = -np.mean(np.log(prob[np.arange(n), y]))
    acc = np.mean(prob.argmax(1) == y)
    return ([p.astype(np.float32) for p in p64], [a.astype(np.float32) for a in m],
            [a.astype(np.float32) for a in v], EPOCHS, loss, acc)


def f32(v):
    return float(np.float32(v))


def dense2(name, units, act, first=False):
    cfg = {"name": name, "trainable": True}
    if first:
        cfg["batch_input_shape"] = [None, 4]
    cfg.update({"dtype": "float32", "units": units, "activation": act, "use_bias": True,
                "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
                "bias_initializer": {"class_name": "Zeros", "config": {}},
                "kernel_regularizer": None, "bias_regularizer": None,
                "activity_regularizer": None, "kernel_constraint": None,
                "bias_constraint": None})
    return {"class_name": "Dense", "config": cfg}


def keras2_config():
    return {"class_name": "Sequential", "config": {"name": "iris_mlp", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32",
                                                "sparse": False, "ragged": False, "name": "features"}},
        dense2("hidden", HIDDEN, "relu", first=True),
        dense2("output", 3, "softmax")]}}


def training_config():
    return {"loss": "categorical_crossentropy", "metrics": ["accuracy"], "weighted_metrics": None,
            "loss_weights": None,
            "optimizer_config": {"class_name": "Adam", "config": {
                "name": "Adam", "learning_rate": f32(LR), "decay": 0.0, "beta_1": f32(B1),
                "beta_2": f32(B2), "epsilon": 1e-07, "amsgrad": False}}}


def vlen_ascii(strings):
    return np.array([s.encode("utf8") for s in strings], dtype=h5py.string_dtype("ascii"))


def write_layer_weights(g, names, params):
    """What tf.keras' save_weights_to_hdf5_group writes into g: backend, keras_version,
    layer_names, and per layer its weight_names and datasets (groups created in
    name order, as h5py lists them)."""
    g.attrs["backend"] = b"tensorflow"
    g.attrs["keras_version"] = KERAS2.encode("utf8")
    g.attrs["layer_names"] = vlen_ascii(names)
    for name in sorted(names):
        k = names.index(name)
        lg = g.create_group(name)
        wn = [f"{name}/kernel:0", f"{name}/bias:0"]
        lg.attrs["weight_names"] = vlen_ascii(wn)
        lg.create_dataset(wn[0], data=params[2 * k])
        lg.create_dataset(wn[1], data=params[2 * k + 1])


def write_legacy(path, params, opt=None):
    """model.save("x.h5") in tf.keras 2.10 with h5py 3 (see the conformance README)."""
    names = ["hidden", "output"]
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = KERAS2            # str -> vlen UTF-8
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(keras2_config()).encode("utf8")  # bytes -> vlen ASCII
        f.attrs["training_config"] = json.dumps(training_config()).encode("utf8")
        mw = f.create_group("model_weights")
        write_layer_weights(mw, names, params)
        top = mw.create_group("top_level_model_weights")
        top.attrs["weight_names"] = np.zeros((0,), dtype=np.float64)
        if opt is not None:
            m, v, iters = opt
            og = f.create_group("optimizer_weights")
            wn = ["Adam/iter:0"]
            wn += [f"Adam/{n}/{w}/m:0" for n in names for w in ("kernel", "bias")]
            wn += [f"Adam/{n}/{w}/v:0" for n in names for w in ("kernel", "bias")]
            og.attrs["weight_names"] = vlen_ascii(wn)
            og.create_dataset(wn[0], data=np.int64(iters))
            for name, arr in zip(wn[1:], m + v):
                og.create_dataset(name, data=arr)


def write_weights_only(path, params):
    """model.save_weights("x.h5") in tf.keras 2.10: the model_weights layout at the root."""
    with h5py.File(path, "w") as f:
        write_layer_weights(f, ["hidden", "output"], params)


def keras3_config():
    dt = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
          "registered_name": None}

    def dense3(name, units, act, in_dim):
        return {"module": "keras.layers", "class_name": "Dense", "config": {
            "name": name, "trainable": True, "dtype": dt, "units": units, "activation": act,
            "use_bias": True,
            "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                                   "config": {"seed": None}, "registered_name": None},
            "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros",
                                 "config": {}, "registered_name": None},
            "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": None, "bias_constraint": None},
            "registered_name": None, "build_config": {"input_shape": [None, in_dim]}}

    return {"module": "keras", "class_name": "Sequential", "config": {
        "name": "iris_mlp", "trainable": True, "dtype": dt, "layers": [
            {"module": "keras.layers", "class_name": "InputLayer",
             "config": {"batch_shape": [None, 4], "dtype": "float32", "sparse": False,
                        "name": "features"}, "registered_name": None},
            dense3("hidden", HIDDEN, "relu", 4), dense3("output", 3, "softmax", HIDDEN)],
        "build_input_shape": [None, 4]},
        "registered_name": None, "build_config": {"input_shape": [None, 4]},
        "compile_config": {
            "optimizer": {"module": "keras.optimizers", "class_name": "Adam", "config": {
                "name": "adam", "learning_rate": f32(LR), "weight_decay": None, "clipnorm": None,
                "global_clipnorm": None, "clipvalue": None, "use_ema": False,
                "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                "loss_scale_factor": None, "gradient_accumulation_steps": None,
                "beta_1": B1, "beta_2": B2, "epsilon": 1e-07, "amsgrad": False},
                "registered_name": None},
            "loss": "categorical_crossentropy", "loss_weights": None, "metrics": ["accuracy"],
            "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
            "jit_compile": False}}


def write_keras3(path, params):
    buf = io.BytesIO()
    with h5py.File(buf, "w") as w:   # no attributes at all, as Keras 3 writes it
        layers = w.create_group("layers")
        for k, gname in enumerate(["dense", "dense_1"]):
            vs = layers.create_group(gname).create_group("vars")
            vs.create_dataset("0", data=params[2 * k])
            vs.create_dataset("1", data=params[2 * k + 1])
        w.create_group("vars")
    meta = json.dumps({"keras_version": KERAS3, "date_saved": DATE_SAVED})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(zipfile.ZipInfo("metadata.json", (1980, 1, 1, 0, 0, 0)), meta)
        z.writestr(zipfile.ZipInfo("config.json", (1980, 1, 1, 0, 0, 0)), json.dumps(keras3_config()))
        z.writestr(zipfile.ZipInfo("model.weights.h5", (2026, 1, 1, 12, 0, 0)), buf.getvalue())


def reorder(p):
    """[hidden kernel, hidden bias, output kernel, output bias] with the output
    units (the classes) in REORDER order."""
    return [p[0], p[1], p[2][:, REORDER], p[3][REORDER]]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else SRC
    os.makedirs(out, exist_ok=True)
    x, y = load_iris()
    rng = np.random.default_rng(SEED)
    init = [glorot(rng, 4, HIDDEN), np.zeros(HIDDEN, np.float32),
            glorot(rng, HIDDEN, 3), np.zeros(3, np.float32)]
    params, m, v, iters, loss, acc = train(x, y, init)
    write_legacy(os.path.join(out, "iris_mlp_untrained.h5"), init)
    write_legacy(os.path.join(out, "iris_mlp.h5"), params, (m, v, iters))
    write_keras3(os.path.join(out, "iris_mlp.keras"), params)
    write_weights_only(os.path.join(out, "iris_mlp_weights.h5"), params)
    write_legacy(os.path.join(out, "iris_mlp_reordered.h5"), reorder(params),
                 (reorder(m), reorder(v), iters))
    sample = x[SAMPLE_ROWS]
    np.save(os.path.join(out, "iris_sample.npy"), sample)
    with open(os.path.join(out, "iris_sample.csv"), "w") as f:
        for row in sample:
            f.write(",".join(f"{float(val):g}" for val in row) + "\n")
    _, prob = forward(params, sample)
    np.save(os.path.join(out, "iris_sample_expected.npy"), prob)
    with open(os.path.join(out, "iris_labels.txt"), "w") as f:
        f.write("\n".join(LABELS) + "\n")
    np.save(os.path.join(out, "iris_x.npy"), x)
    np.save(os.path.join(out, "iris_y_onehot.npy"), np.eye(3, dtype=np.float32)[y])
    # the saved float32 weights over the whole set, as model.evaluate(x, y) reports
    _, prob_all = forward(params, x)
    correct = int((prob_all.argmax(1) == y).sum())
    p = np.clip(prob_all / prob_all.sum(1, keepdims=True), 1e-7, 1 - 1e-7)
    metrics = {"samples": int(len(x)), "correct": correct, "accuracy": correct / len(x),
               "loss": float(-np.mean(np.log(p[np.arange(len(x)), y]))),
               "loss_name": "categorical_crossentropy", "metric": "accuracy"}
    with open(os.path.join(out, "iris_train_metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
        f.write("\n")
    print(f"trained {iters} steps: loss {loss:.4f}, accuracy {acc:.3f}; "
          f"sample predictions {prob.argmax(1).tolist()} (labels {y[SAMPLE_ROWS].tolist()})")


if __name__ == "__main__":
    main()
