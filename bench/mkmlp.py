#!/usr/bin/python3
"""Write the small MLP used by bench/run-predict.sh (784-512-256-10, relu/softmax)
in the tf.keras 2.x legacy .h5 layout, reusing shared/bench/mkbig.py's writer.

  mkmlp.py OUTDIR [MKBIG_DIR]
"""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "..", "shared", "bench"))
import mkbig  # noqa: E402


def mlp():
    layers = [{"class_name": "InputLayer", "config": {"batch_input_shape": [None, 784], "dtype": "float32",
               "sparse": False, "ragged": False, "name": "input_1"}}]
    weights = []
    fin = 784
    for name, units, act in [("dense", 512, "relu"), ("dense_1", 256, "relu"), ("dense_2", 10, "softmax")]:
        layers.append(mkbig.dense(name, units, act))
        weights.append((name, [("kernel", (fin, units)), ("bias", (units,))]))
        fin = units
    return {"class_name": "Sequential", "config": {"name": "mlp", "layers": layers}}, weights


if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    cfg, w = mlp()
    mkbig.write(os.path.join(out, "mlp.h5"), cfg, w, seed=3)
    print("wrote", os.path.join(out, "mlp.h5"))
