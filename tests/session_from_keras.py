#!/usr/bin/python3
"""Writes a kerascope session from outputs Keras computed, with h5py only,
following the SESSION FILES section of kerascope(1) -- not kerascope's own
writer -- so that `kerascope replay` checks both the format description and
the engine against Keras.

usage: session_from_keras.py IO.h5 MODEL.h5 OUT_SESSION.h5

IO.h5 is a DL4J-style export of a Keras run: /inputs/<name> (the model
input), /predictions/<layer> (what model.predict returned) and, for some,
/activations/<layer> (each layer's output), recorded in model order. The weights
digest is computed here as the man page describes (hashlib over rank,
dimensions and float32 values of every layer weight, in model order, names
left out) from the legacy .h5 layout, so replay's "same weights" verdict
also checks kerascope's digest against this independent one.

Exits 3 when IO.h5 holds no Keras predictions. Prints the absolute tolerance to give `replay -d`: 1e-5 times the largest
magnitude of Keras' outputs (the tolerance test_real_outputs uses).
"""
import hashlib
import json
import struct
import sys

import h5py
import numpy as np


def names(attr):
    return [n.decode() if isinstance(n, bytes) else str(n) for n in attr]


def weights_digest(model_path):
    h = hashlib.sha256()
    with h5py.File(model_path, "r") as f:
        g = f["model_weights"] if "model_weights" in f else f
        for layer in names(g.attrs["layer_names"]):
            lg = g[layer]
            wn = lg.attrs.get("weight_names", [])
            for w in names(wn) if len(wn) else []:
                a = np.ascontiguousarray(lg[w][()], dtype="<f4")
                h.update(struct.pack("<I", a.ndim))
                h.update(np.asarray(a.shape, dtype="<i8").tobytes())
                h.update(a.tobytes())
    return "sha256:" + h.hexdigest()


def layer_order(model_path):
    """Layer names in model order, from the file's model_config."""
    with h5py.File(model_path, "r") as f:
        cfg = json.loads(f.attrs["model_config"])
    layers = cfg["config"]["layers"] if isinstance(cfg["config"], dict) else cfg["config"]
    return [l["config"]["name"] for l in layers]


def main():
    io_path, model_path, out = sys.argv[1:4]
    with h5py.File(io_path, "r") as io:
        if "predictions" not in io:
            # /outputs of these exports are training targets, not Keras' outputs
            sys.stderr.write("%s: no /predictions: ships no Keras outputs\n" % io_path)
            sys.exit(3)
        ins = sorted(io["inputs"])
        preds = sorted(io["predictions"])
        if len(ins) != 1 or len(preds) != 1:
            sys.exit("%s: expected one input and one prediction, got %d and %d" % (io_path, len(ins), len(preds)))
        x = io["inputs"][ins[0]][()]
        y = io["predictions"][preds[0]][()]
        # per-layer Keras outputs, in execution order (a Sequential model's order)
        acts = []
        if "activations" in io:
            for name in layer_order(model_path):
                if name in io["activations"]:
                    acts.append((name, io["activations"][name][()]))
    with h5py.File(out, "w-") as f:
        f.attrs["kerascope_session"] = 1
        f.attrs["writer"] = "keras (DL4J export), via h5py"
        f["inputs/0"] = x
        f["inputs/0"].attrs["name"] = ins[0]
        f["inputs/0"].attrs["source"] = "keras"
        f["outputs/0"] = y
        f["outputs/0"].attrs["name"] = preds[0]
        for k, (name, a) in enumerate(acts):
            f["activations/%d" % k] = a
            f["activations/%d" % k].attrs["layer"] = name
        m = f.create_group("model")
        m.attrs["path"] = model_path
        m.attrs["weights_digest"] = weights_digest(model_path)
    print("%.9g" % (1e-5 * float(np.max(np.abs(y)))))


if __name__ == "__main__":
    main()
