# The example model kerascope ships (small; committed). Regenerate with
# `make regen-examples` (needs /usr/bin/python3 with numpy and h5py).
EXAMPLE_FILES = \
	examples/iris.csv examples/iris_labels.txt \
	examples/iris_mlp.h5 examples/iris_mlp_untrained.h5 examples/iris_mlp.keras \
	examples/iris_mlp_weights.h5 \
	examples/iris_mlp_reordered.h5 \
	examples/iris_sample.npy examples/iris_sample.csv examples/iris_sample_expected.npy \
	examples/iris_train_metrics.json examples/iris_x.npy examples/iris_y_onehot.npy
EXTRA_DIST += $(EXAMPLE_FILES) tools/mkexample.py tools/quickstart

regen-examples:
	/usr/bin/python3 $(srcdir)/tools/mkexample.py $(srcdir)/examples
.PHONY: regen-examples

# The open benchmark (bench/OPEN.md); run by hand, never by make check.
EXTRA_DIST += bench/bench-open.sh bench/OPEN.md
