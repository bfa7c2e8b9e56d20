#!/usr/bin/python3
"""PyTorch reference timing for a Keras legacy .h5 file (bench/README).

  torch_ref.py FILE [--repeat N] [--batch B] [--threads T]

Builds the same network in PyTorch from the file's model_config and weights
(read with h5py), feeds the input ks_bench uses (x[i] = ((i*7919) % 2001)/1000 - 1
over the Keras channels_last layout), and prints best/median ms per inference
and a checksum of the output to compare with `bench/ks_bench FILE`.

Supports the Sequential layers the benchmark models use: InputLayer, Conv2D
(padding same/valid, stride 1), MaxPooling2D, Flatten, Dense, LSTM, Dropout.
Needs Debian's python3-torch and python3-h5py (run with /usr/bin/python3).
"""
import argparse
import json
import statistics
import time

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def acts(name):
    return {"relu": F.relu, "softmax": lambda x: F.softmax(x, dim=-1), "linear": lambda x: x,
            "tanh": torch.tanh, "sigmoid": torch.sigmoid, None: lambda x: x}[name]


def weights_of(f, lname):
    g = f["model_weights"][lname]
    names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["weight_names"]]
    return [np.asarray(g[n]) for n in names]


class KerasSeq(nn.Module):
    def __init__(self, f):
        super().__init__()
        cfg = json.loads(f.attrs["model_config"])
        layers = cfg["config"]["layers"] if isinstance(cfg["config"], dict) else cfg["config"]
        self.steps = []
        self.mods = nn.ModuleList()
        self.input_shape = None
        for l in layers:
            cls, c = l["class_name"], l["config"]
            if cls == "InputLayer":
                self.input_shape = c.get("batch_input_shape") or c.get("batch_shape")
                continue
            if self.input_shape is None and "batch_input_shape" in c:
                self.input_shape = c["batch_input_shape"]
            w = weights_of(f, c["name"])
            if cls == "Conv2D":
                k, b = w[0], w[1]
                assert c["strides"] in ([1, 1], (1, 1)) and c["dilation_rate"] in ([1, 1], (1, 1))
                m = nn.Conv2d(k.shape[2], k.shape[3], tuple(k.shape[:2]),
                              padding="same" if c["padding"] == "same" else 0)
                m.weight.data = torch.from_numpy(np.ascontiguousarray(k.transpose(3, 2, 0, 1)))
                m.bias.data = torch.from_numpy(b)
                self.mods.append(m)
                self.steps.append(("mod", len(self.mods) - 1, acts(c.get("activation"))))
            elif cls == "MaxPooling2D":
                self.steps.append(("pool", tuple(c["pool_size"]), tuple(c["strides"] or c["pool_size"])))
            elif cls == "Flatten":
                self.steps.append(("flatten",))
            elif cls == "Dropout":
                continue
            elif cls == "Dense":
                k, b = w[0], w[1]
                m = nn.Linear(k.shape[0], k.shape[1])
                m.weight.data = torch.from_numpy(np.ascontiguousarray(k.T))
                m.bias.data = torch.from_numpy(b)
                self.mods.append(m)
                self.steps.append(("mod", len(self.mods) - 1, acts(c.get("activation"))))
            elif cls == "LSTM":
                k, r, b = w[0], w[1], w[2]
                u = c["units"]
                # Keras gates i, f, c, o are PyTorch's i, f, g, o.
                m = nn.LSTM(k.shape[0], u, batch_first=True)
                m.weight_ih_l0.data = torch.from_numpy(np.ascontiguousarray(k.T))
                m.weight_hh_l0.data = torch.from_numpy(np.ascontiguousarray(r.T))
                m.bias_ih_l0.data = torch.from_numpy(b)
                m.bias_hh_l0.data = torch.zeros(4 * u)
                self.mods.append(m)
                self.steps.append(("lstm", len(self.mods) - 1, c["return_sequences"]))
            else:
                raise SystemExit(f"torch_ref.py: layer class {cls} not supported")

    def forward(self, x):
        for s in self.steps:
            if s[0] == "mod":
                x = s[2](self.mods[s[1]](x))
            elif s[0] == "pool":
                x = F.max_pool2d(x, s[1], s[2])
            elif s[0] == "flatten":
                if x.dim() == 4:  # Keras flattens channels_last
                    x = x.permute(0, 2, 3, 1)
                x = torch.flatten(x, 1)
            elif s[0] == "lstm":
                y, _ = self.mods[s[1]](x)
                x = y if s[2] else y[:, -1, :]
        return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    with h5py.File(a.file, "r") as f:
        t0 = time.perf_counter()
        model = KerasSeq(f).eval()
        t1 = time.perf_counter()
    shape = [a.batch] + list(model.input_shape[1:])
    n = int(np.prod(shape))
    x = ((np.arange(n, dtype=np.int64) * 7919) % 2001).astype(np.float32) / np.float32(1000) - np.float32(1)
    x = torch.from_numpy(x.reshape(shape))
    if x.dim() == 4:
        x = x.permute(0, 3, 1, 2).contiguous()
    times, cpu = [], []
    with torch.no_grad():
        y = model(x)  # warm-up
        for _ in range(a.repeat):
            s, c = time.perf_counter(), time.process_time()
            y = model(x)
            times.append((time.perf_counter() - s) * 1e3)
            cpu.append((time.process_time() - c) * 1e3)
    y = y.numpy().ravel()
    times.sort()
    cpu.sort()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), mkldnn "
          f"{torch.backends.mkldnn.is_available()}; build {t1 - t0:.1f} s")
    print(f"batch {a.batch}: best {times[0]:.2f} ms, median {statistics.median(times):.2f} ms "
          f"per run ({a.repeat} runs)")
    print(f"cpu time: best {cpu[0]:.2f} ms, median {statistics.median(cpu):.2f} ms")
    print(f"output[0] sum {y.sum():.6g} abs-sum {np.abs(y).sum():.6g} first {y[0]:.6g} {y[1]:.6g} {y[2]:.6g}")


if __name__ == "__main__":
    main()
